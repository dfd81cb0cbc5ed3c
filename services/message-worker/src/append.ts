// Storing a message in its room: the room log (room-log.ts) checks, atomically, that the room's
// facts are still those the send was authorised against, that the room's seq lease is valid and
// has seqs left, and the sender's slow mode and rate limit, then assigns the seq and writes the
// history, the outbox and the sender's dedup entry. Here: what to do about each refusal (reserve
// seqs, reset the room, seed the dedup entries, re-authorise) and the errors the sender gets.
// A sender's first send in an epoch that follows a reset first has its earlier client_msg_ids
// copied from Postgres (dedup-seeds.ts), so that a send retried across a Redis loss is stored once.
import type { RoomFacts, Rooms, SeenFacts } from '@lomi/rooms';
import { chat, roomKindName, type lomi, type Room } from '@lomi/protocol';
import { UnavailableError } from '@lomi/errors';
import type { WorkerContext } from './context';
import type { DedupSeeds } from './dedup-seeds';
import { RateLimitedError, SlowModeError } from './errors';
import { messageKindName } from './message-store';
import type { AppendRequest, RoomLog } from './room-log';
import { SeqLeaseUnavailableError, type Sequences } from './sequences';

/** Resets one append waits for before giving up (Redis losing the room again and again). */
const LEASE_RESETS = 4;

export type AppendResult = { duplicate: false; seq: number; epoch: string } | { duplicate: true; seq: number };
/** Or: the room's meta value is no longer the one the send was authorised against; nothing stored. */
type Attempt = AppendResult | { factsChanged: true; meta: string | null };

/** A sender's allowance: `perSecond` sustained, `burst` at once. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** What limits one sender's send, checked by the room log's append. */
export interface SendLimits {
  rate?: RateLimit;
  /** Slow mode: the least time since the sender's last message in the room; 0 or unset = off. */
  slowModeMs?: number;
}

export type Append = ReturnType<typeof createAppend>;

export function createAppend(ctx: WorkerContext, roomLog: RoomLog, rooms: Rooms, sequences: Sequences, seeds: DedupSeeds) {
  const { metrics } = ctx;

  async function attempt(message: lomi.chat.v1.ChatMessage, authorised: SeenFacts, { rate: limit, slowModeMs = 0 }: SendLimits): Promise<Attempt> {
    const room = message.room ?? {};
    const request: AppendRequest = {
      room,
      senderId: message.senderId,
      clientMsgId: message.clientMsgId,
      message: chat.ChatMessage.encode({ ...message, seq: 0 }).finish(),
      authorisedMeta: authorised.meta,
      rateIntervalUs: limit ? Math.round(1_000_000 / limit.perSecond) : 0,
      rateBurst: limit?.burst ?? 0,
      slowModeMs,
      seedCheck: true,
    };

    const timer = metrics.appendSeconds.startTimer();
    let reply = await roomLog.append(request);
    // A used-up block is not counted: each wait ends with one more block reserved in Postgres,
    // which only other sends can take, so a burst that outruns the reservations drains.
    for (let resets = 0; reply.status === 'verify' || reply.status === 'reserve' || reply.status === 'seed';) {
      if (reply.status === 'reserve') await sequences.reserve(room, reply.epoch);
      else if (reply.status === 'seed') request.seedCheck = await seeds.seed(room, message.senderId, reply.epoch, reply.epochStart);
      else if (++resets === LEASE_RESETS) throw new SeqLeaseUnavailableError(`no usable seq lease for ${room.id} after ${resets} resets`);
      else await sequences.reset(room);
      reply = await roomLog.append(request);
    }
    timer();

    switch (reply.status) {
      case 'facts':
        return { factsChanged: true, meta: reply.meta };
      case 'limited':
        metrics.rateLimited.inc();
        throw new RateLimitedError(reply.retryAfterMs);
      case 'slow':
        metrics.slowModeRefused.inc();
        throw new SlowModeError(reply.retryAfterMs, slowModeMs);
      case 'dup':
        metrics.duplicates.inc();
        return { duplicate: true, seq: reply.seq };
    }
    metrics.messagesStored.inc({ room_kind: roomKindName(room.kind), kind: messageKindName(message.kind) });
    sequences.afterAppend(room, reply.epoch, reply.left);
    return { duplicate: false, seq: reply.seq, epoch: reply.epoch };
  }

  /**
   * Stores `message` (its seq is ignored) in its room if its sender may send there, unless the
   * sender already stored `clientMsgId` here. `admit` runs once the sender is authorised, before
   * anything is stored: it may refuse the message (throw), rewrite it, and gives the sender's
   * limits in the room; over them, throws RateLimitedError or SlowModeError and stores nothing.
   * Returns what happened and the facts the send was authorised against.
   */
  return async function append(
    message: lomi.chat.v1.ChatMessage,
    admit: (facts: RoomFacts) => SendLimits | Promise<SendLimits> = () => ({}),
  ): Promise<AppendResult & { facts: RoomFacts }> {
    const room = message.room as Room;
    let authorised = await rooms.authorizeSeen(room, message.senderId, 'send');
    for (let tries = 1; ; tries++) {
      const stored = await attempt(message, authorised, await admit(authorised.facts));
      if (!('factsChanged' in stored)) return { ...stored, facts: authorised.facts };
      // Changed again while we looked: something keeps rewriting the room; the client retries.
      if (tries === 2) throw new UnavailableError('room facts kept changing during a send');
      rooms.seen(room, stored.meta);
      authorised = await rooms.authorizeSeen(room, message.senderId, 'send');
    }
  };
}
