// When a stored message may be acked and published (ACK_DURABILITY). `redis`: as soon as the
// room log's append stored it. `replica`: once a Redis replica has it too (one WAIT per event-loop
// turn covers every append of the turn, which went out on the same connection before it).
// `postgres`: only once its row is committed in Postgres, so a Redis that
// loses its state loses nothing that was acked. Commits are grouped per room: one transaction at
// a time per room in this worker, carrying every message that arrived while the previous one was
// committing (the appends of at least one event-loop turn), so a busy room's sends share commits
// instead of queueing for one each.
//
// A commit also carries the outbox's messages below its own (another worker's, whose commit has
// not landed yet), so that what Postgres holds of an epoch is always every message up to some
// seq. Otherwise a later seq could be committed and published while an earlier one is still
// only in Redis: gateways would fill that gap from Redis, and if Redis then lost the earlier
// message, a reset's hole (above the highest stored seq) would not cover it, and its sender's
// retry would be delivered a second time under a new seq. The committed entries leave the outbox.
import { UnavailableError } from '@lomi/errors';
import { endOfTurn } from '@lomi/service-runtime';
import { roomKey, type lomi, type Room } from '@lomi/protocol';
import type { WorkerContext } from './context';
import type { History } from './history';
import { storeDurably, type Durable } from './message-store';
import { decodeEntry, type Outbox, type RoomLog } from './room-log';

type StoredMessage = lomi.chat.v1.ChatMessage;

/** A stored message, or the one a resend turned out to repeat (Redis had forgotten its client_msg_id). */
export type Settled = { message: StoredMessage; duplicate: boolean };

/** The message was appended, but a reset declared its seq lost before Postgres had it: nothing was acked, retry. */
export class MessageLostError extends Error {
  override name = 'MessageLostError';
}

/** ACK_DURABILITY=replica: no replica confirmed the write in time; the send may be retried (it is stored once). */
export class ReplicaUnavailableError extends UnavailableError {
  override name = 'ReplicaUnavailableError';
}

type Waiter = { message: StoredMessage; resolve: (d: Durable) => void; reject: (err: unknown) => void };
/** One room's messages waiting for its next commit; listed while a commit of the room is due or under way. */
type RoomCommits = { room: Room; waiting: Waiter[] };

export type Durability = ReturnType<typeof createDurability>;

export function createDurability(ctx: WorkerContext, roomLog: RoomLog, outbox: Outbox, history: History) {
  const strict = ctx.config.ACK_DURABILITY === 'postgres';
  const replica = ctx.config.ACK_DURABILITY === 'replica';
  let replicating: Promise<void> | undefined;
  let replicatedRooms = new Map<string, Room>();

  /** Resolves once a replica has every write this worker made to `room`'s server before the end of this turn. */
  function replicated(room: Room): Promise<void> {
    replicatedRooms.set(roomKey(room), room);
    replicating ??= endOfTurn().then(async () => {
      const turnRooms = [...replicatedRooms.values()];
      replicatedRooms = new Map();
      replicating = undefined;
      if (!(await roomLog.replicated(ctx.config.ACK_REPLICA_TIMEOUT_MS, turnRooms)))
        throw new ReplicaUnavailableError(`no Redis replica confirmed the write within ${ctx.config.ACK_REPLICA_TIMEOUT_MS} ms; retry`);
    });
    return replicating;
  }
  const rooms = new Map<string, RoomCommits>();

  /**
   * The outbox's messages of the room below `messages` that Postgres may not have yet, and the
   * seqs of the outbox entries read. Undecodable entries are left to the persister, which sets them aside.
   */
  async function outboxBelow(room: Room, messages: StoredMessage[]): Promise<{ below: StoredMessage[]; seqs: number[] }> {
    const own = new Set(messages.map((m) => m.seq));
    const top = Math.max(...own);
    const upTo = await outbox.upTo(room, top);
    // Resetting first makes the batch's seqs either stored or in the reset's hole (dropped as lost).
    if (upTo.status === 'void') await history.top(room);
    const below: StoredMessage[] = [];
    const seqs: number[] = [];
    for (const entry of upTo.status === 'ok' ? upTo.entries : []) {
      let message: StoredMessage;
      try {
        message = decodeEntry(entry);
      } catch {
        continue;
      }
      seqs.push(entry.seq);
      if (!own.has(message.seq)) below.push(message);
    }
    return { below, seqs };
  }

  /** Commits the room's waiting messages, then again while more came meanwhile. */
  async function commitRoom(key: string, commits: RoomCommits): Promise<void> {
    const { room } = commits;
    while (commits.waiting.length > 0) {
      const batch = commits.waiting.splice(0);
      try {
        const messages = batch.map((w) => w.message);
        const { below, seqs } = await outboxBelow(room, messages);
        const outcomes = await storeDurably(ctx.db, room, [...below, ...messages]);
        for (const w of batch) w.resolve(outcomes.get(w.message.id)!);
        // Stored, or known to the reset as lost: the persister need not see them again (it would
        // skip them, so a failure here costs nothing but that).
        await outbox.remove(room, seqs).catch(() => undefined);
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    rooms.delete(key);
  }

  function commit(message: StoredMessage): Promise<Durable> {
    const room = message.room ?? {};
    const key = roomKey(room);
    return new Promise((resolve, reject) => {
      let commits = rooms.get(key);
      if (!commits) {
        rooms.set(key, (commits = { room, waiting: [] }));
        const started = commits;
        // The first commit waits for the end of the turn, so the turn's appends share it.
        void endOfTurn().then(() => commitRoom(key, started));
      }
      commits.waiting.push({ message, resolve, reject });
    });
  }

  async function settled(message: StoredMessage): Promise<Settled> {
    const durable = await commit(message);
    if ('lost' in durable) throw new MessageLostError(`message ${message.id} (seq ${message.seq}) was lost with Redis before Postgres had it`);
    if ('duplicateOf' in durable) return { message: durable.duplicateOf, duplicate: true };
    return { message, duplicate: false };
  }

  return {
    strict,

    /** Resolves once `message` (just appended) may be acked: at once, once on a replica, or once committed in Postgres. */
    async settle(message: StoredMessage): Promise<Settled> {
      if (strict) return settled(message);
      if (replica) await replicated(message.room as Room);
      return { message, duplicate: false };
    },

    /** The message a resend repeats (stored at `seq`), once it may be acked again; undefined if no longer stored. */
    async original(room: Room, seq: number): Promise<StoredMessage | undefined> {
      const [original] = await history.read(room, seq - 1, seq);
      if (replica) await replicated(room);
      if (!strict) return original;
      if (!original) throw new MessageLostError(`the message at seq ${seq} that this send repeats is no longer stored`);
      return (await settled(original)).message;
    },
  };
}
