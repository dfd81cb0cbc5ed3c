// Joins, gathered per room by the gateways (JoinBatchRequest → JoinBatchReply). Each joiner is
// authorised on its own (the room's facts are read once for the batch); the room's top, epoch,
// pin and viewer count are read once; and the widest recovery range the joiners ask for is read
// once, each recovered joiner getting the part after its since_seq. So a reconnect storm into
// one room costs Redis a few reads per batch instead of a few per socket.
import { coalescing } from '@lomi/common';
import type { Pins } from '@lomi/rooms';
import { internal, roomKey, type ChatMessage, type lomi, type Room } from '@lomi/protocol';
import type { WorkerContext } from './context';
import { badRequest, decodeRequest, rejection, RequestError } from './errors';
import type { History } from './history';
import { messageBudget, prefixWithin } from './payload';
import { otherMember, type Receipts } from './receipts';
import { validRoom, type RoomFacts, type Rooms } from './rooms';

export interface JoinParts {
  rooms: Rooms;
  history: History;
  pins: Pins;
  receipts: Receipts;
}

/** Where a room's history stands for its joiners: its top, its epoch, and from which seq on the read holds every message up to the top. */
export interface RecoverySource {
  topSeq: number;
  epoch: string;
  completeFrom: number;
}

/** A source that holds everything: whether a joiner asks for a recovery that may succeed at all. */
const unread = (topSeq: number, epoch: string): RecoverySource => ({ topSeq, epoch, completeFrom: -Infinity });

/**
 * The one recovery decision: whether a joiner back from `since_seq` gets every message it
 * missed. All or nothing, since a client given part of the gap would believe it had all of it:
 * the same epoch, at most `max` messages, and every one of (since_seq, top] held by the source.
 */
export function recovers(joiner: lomi.internal.v1.IJoinBatchJoiner, source: RecoverySource, max: number): boolean {
  if (joiner.sinceSeq == null) return false;
  const since = Number(joiner.sinceSeq);
  if ((joiner.epoch && joiner.epoch !== source.epoch) || since > source.topSeq) return false;
  if (source.topSeq - since > max) return false;
  return since + 1 >= source.completeFrom;
}

/** The longest run of `messages` that ends at `topSeq` with no seq missing. */
function completeTail(messages: ChatMessage[], topSeq: number): ChatMessage[] {
  let expected = topSeq;
  let i = messages.length - 1;
  while (i >= 0 && Number(messages[i]!.seq) === expected) {
    i -= 1;
    expected -= 1;
  }
  return messages.slice(i + 1);
}

type Admission = { facts: RoomFacts; error?: undefined } | { error: lomi.chat.v1.IError; facts?: undefined };

export function createJoinHandler(ctx: WorkerContext, parts: JoinParts) {
  const { config, nc } = ctx;
  const { rooms, history, pins, receipts } = parts;

  // Batches of one room from several gateways that arrive together share these reads too.
  const top = coalescing(roomKey, history.top);
  const liveState = coalescing(roomKey, async (room: Room) => {
    // The presence workers keep one field per distinct viewer in this hash (see keys.viewers).
    const [pin, viewerCount] = await Promise.all([pins.current(room), ctx.redis.hlen(ctx.keys.viewers(room))]);
    return { pin, viewerCount };
  });

  /** A refusal (FORBIDDEN, NOT_FOUND, ROOM_CLOSED, …) is this joiner's answer; any other failure fails the batch. */
  async function admit(room: Room, joiner: lomi.internal.v1.IJoinBatchJoiner): Promise<Admission> {
    try {
      if (!joiner.userId) throw badRequest('user_id is required');
      return { facts: await rooms.authorize(room, joiner.userId, 'join') };
    } catch (err) {
      if (err instanceof RequestError) return { error: rejection(ctx, 'join', err) };
      throw err;
    }
  }

  /**
   * Reads (lowest since_seq, top] once for every joiner that may recover, and keeps the part
   * that ends at the top complete and fits the reply beside `replyBytes` of everything else;
   * a joiner whose range reaches further back is told to reload, as a joiner alone would be.
   */
  async function readRecovery(room: Room, joiners: lomi.internal.v1.IJoinBatchJoiner[], topSeq: number, epoch: string, replyBytes: number) {
    const asking = joiners.filter((j) => recovers(j, unread(topSeq, epoch), config.RECOVERY_MAX));
    if (asking.length === 0) return { source: { topSeq, epoch, completeFrom: topSeq + 1 }, messages: [] };
    const from = Math.min(...asking.map((j) => Number(j.sinceSeq)));
    const tail = completeTail(await history.read(room, from, topSeq), topSeq);
    // The newest messages are the ones every recovering joiner needs: the budget is spent from the top down.
    const fits = prefixWithin([...tail].reverse(), messageBudget(nc) - replyBytes).reverse();
    const completeFrom = fits.length > 0 ? Number(fits[0]!.seq) : topSeq + 1;
    return { source: { topSeq, epoch, completeFrom }, messages: fits };
  }

  async function answer(request: lomi.internal.v1.JoinBatchRequest): Promise<lomi.internal.v1.IJoinBatchReply> {
    const room = validRoom(request.room);
    const admissions = await Promise.all(request.joiners.map((j) => admit(room, j)));
    const admitted = request.joiners.filter((_, i) => admissions[i]!.facts);
    if (admitted.length === 0) return { results: admissions.map((a) => ({ error: a.error })) };

    const [{ topSeq, epoch }, state, readStates] = await Promise.all([
      top(room),
      admissions.some((a) => a.facts?.kind === 'live') ? liveState(room) : undefined,
      Promise.all(
        request.joiners.map((j, i) => {
          const facts = admissions[i]!.facts;
          return facts?.kind === 'private' ? receipts.readState(room, j.userId!, otherMember(facts.members, j.userId!)) : undefined;
        }),
      ),
    ]);
    const reply: lomi.internal.v1.IJoinBatchReply = {
      topSeq,
      epoch,
      ...state,
      results: admissions.map((a, i) => (a.error ? { error: a.error } : { readState: readStates[i] })),
    };
    // Each result may still grow by its `recovered` flag (2 bytes) and a longer length prefix.
    const replyBytes = internal.JoinBatchReply.encode(reply).finish().length + 3 * admitted.length;
    const { source, messages } = await readRecovery(room, admitted, topSeq, epoch, replyBytes);
    let lowest = topSeq;
    request.joiners.forEach((joiner, i) => {
      if (admissions[i]!.error || !recovers(joiner, source, config.RECOVERY_MAX)) return;
      reply.results![i]!.recovered = true;
      lowest = Math.min(lowest, Number(joiner.sinceSeq));
    });
    // Only what some recovered joiner misses travels.
    reply.messages = messages.filter((m) => Number(m.seq) > lowest);
    return reply;
  }

  /** Decodes a JoinBatchRequest and returns the encoded JoinBatchReply; never throws. */
  return async function handleJoinBatch(data: Uint8Array): Promise<Uint8Array> {
    const started = performance.now();
    let reply: lomi.internal.v1.IJoinBatchReply;
    try {
      reply = await answer(decodeRequest(internal.JoinBatchRequest, data));
    } catch (err) {
      reply = { error: rejection(ctx, 'join', err) };
    }
    ctx.metrics.commandSeconds.observe({ command: 'join_batch', outcome: reply.error ? 'error' : 'ok' }, (performance.now() - started) / 1000);
    return internal.JoinBatchReply.encode(reply).finish();
  };
}
