// Joins, gathered per room by the gateways (JoinBatchRequest → JoinBatchReply). Each joiner is
// authorised on its own (the room's facts are read once for the batch); the room's top, epoch,
// pin and viewer count are read once; and the widest recovery range the joiners ask for is read
// once, each recovered joiner getting the part after its since_seq. So a reconnect storm into
// one room costs Redis a few reads per batch instead of a few per socket.
import { createDispatcher } from '@lomi/dispatch';
import { coalescing } from '@lomi/service-runtime';
import { publicSettings, type ModerationState, type RoomSanctions, type RoomSettingsReader } from '@lomi/moderation';
import type { PresenceReader } from '@lomi/presence';
import type { Pins } from '@lomi/rooms';
import { internal, roomKey, type lomi, type Role, type Room } from '@lomi/protocol';
import type { WorkerContext } from './context';
import { badRequest, rejection, RequestError } from './errors';
import type { History } from './history';
import { otherMember, type Receipts } from './receipts';
import type { Recover } from './recovery';
import { validRoom, type RoomFacts, type Rooms } from './rooms';

export interface JoinParts {
  rooms: Rooms;
  history: History;
  pins: Pins;
  receipts: Receipts;
  recover: Recover;
  moderation: ModerationState;
  roomSettings: RoomSettingsReader;
  sanctions: RoomSanctions;
  presence: PresenceReader;
}

type Admission = { facts: RoomFacts; role: Role; error?: undefined } | { error: lomi.chat.v1.IError; facts?: undefined; role?: undefined };

export function createJoinHandler(ctx: WorkerContext, parts: JoinParts) {
  const { rooms, history, pins, receipts, recover, moderation, roomSettings, sanctions, presence } = parts;

  // Batches of one room from several gateways that arrive together share these reads too.
  const top = coalescing(roomKey, history.top);
  const liveState = coalescing(roomKey, async (room: Room) => {
    const [pin, viewerCount, settings] = await Promise.all([pins.current(room), presence.viewerCount(room), roomSettings.get(room)]);
    return { pin, viewerCount, settings: publicSettings(settings) };
  });

  /** A refusal (FORBIDDEN, NOT_FOUND, ROOM_CLOSED, …) is this joiner's answer; any other failure fails the batch. */
  async function admit(room: Room, joiner: lomi.internal.v1.IJoinBatchJoiner): Promise<Admission> {
    try {
      if (!joiner.userId) throw badRequest('user_id is required');
      const facts = await rooms.authorize(room, joiner.userId, 'join');
      if (facts.kind === 'live') await sanctions.assertMayJoin(room, joiner.userId);
      // The joiner's own role, so the client shows the controls it may use.
      return { facts, role: await moderation.roleOf(room, joiner.userId, facts) };
    } catch (err) {
      if (err instanceof RequestError) return { error: rejection(ctx, 'join', err) };
      throw err;
    }
  }

  async function answer(request: lomi.internal.v1.JoinBatchRequest): Promise<lomi.internal.v1.IJoinBatchReply> {
    const room = validRoom(request.room);
    const admissions = await Promise.all(request.joiners.map((j) => admit(room, j)));
    const admitted = request.joiners.filter((_, i) => admissions[i]!.facts);
    if (admitted.length === 0) return { results: admissions.map((a) => ({ error: a.error })) };

    const live = admissions.some((a) => a.facts?.kind === 'live');
    const [now, state, counted, readStates] = await Promise.all([
      top(room),
      live ? liveState(room) : undefined,
      // Which joiners the viewer count already holds (another socket of theirs is in the room).
      live
        ? presence.counted(
            room,
            admitted.map((j) => j.userId!),
          )
        : undefined,
      Promise.all(
        request.joiners.map((j, i) => {
          const facts = admissions[i]!.facts;
          return facts?.kind === 'private' ? receipts.readState(room, j.userId!, otherMember(facts.members, j.userId!)) : undefined;
        }),
      ),
    ]);
    const reply: lomi.internal.v1.IJoinBatchReply = {
      topSeq: now.topSeq,
      epoch: now.epoch,
      epochStartSeq: now.epochStart,
      ...state,
      results: admissions.map((a, i) => (a.error ? { error: a.error } : { readState: readStates[i], role: a.role })),
    };
    if (state && counted) {
      // The count each joiner is told includes the joiner, whose presence is reported after the reply.
      admitted.forEach((j, k) => {
        const result = reply.results![request.joiners.indexOf(j)]!;
        result.viewerCount = state.viewerCount + (counted[k] ? 0 : 1);
      });
    }
    // Each result may still grow by its `recovered` flag (2 bytes) and a longer length prefix.
    const replyBytes = internal.JoinBatchReply.encode(reply).finish().length + 3 * admitted.length;
    const { recovered, messages } = await recover(
      room,
      request.joiners.map((j, i) => (admissions[i]!.error ? {} : j)),
      now,
      replyBytes,
    );
    recovered.forEach((yes, i) => {
      if (yes) reply.results![i]!.recovered = true;
    });
    reply.messages = messages;
    return reply;
  }

  return createDispatcher<lomi.internal.v1.JoinBatchRequest, lomi.internal.v1.IJoinBatchReply>({
    request: internal.JoinBatchRequest,
    reply: internal.JoinBatchReply,
    answer,
    fail: (err) => ({ error: rejection(ctx, 'join', err) }),
    observe: (reply, _request, seconds) => ctx.metrics.commandSeconds.observe({ command: 'join_batch', outcome: reply.error ? 'error' : 'ok' }, seconds),
  });
}
