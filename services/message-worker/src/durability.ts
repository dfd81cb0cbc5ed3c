// When a stored message may be acked and published (ACK_DURABILITY). `redis`: as soon as the
// append script stored it. `postgres`: only once its row is committed in Postgres, so a Redis that
// loses its state loses nothing that was acked. Commits are grouped per room: one transaction at
// a time per room in this worker, carrying every message that arrived while the previous one was
// committing (the appends of at least one event-loop turn), so a busy room's sends share commits
// instead of queueing for one each. The persister later finds the rows there and skips them.
import { endOfTurn } from '@lomi/common';
import { roomKey, type lomi, type Room } from '@lomi/protocol';
import type { WorkerContext } from './context';
import type { History } from './history';
import { storeDurably, type Durable } from './message-store';

type StoredMessage = lomi.chat.v1.ChatMessage;

/** A stored message, or the one a resend turned out to repeat (Redis had forgotten its client_msg_id). */
export type Settled = { message: StoredMessage; duplicate: boolean };

/** The message was appended, but a reset declared its seq lost before Postgres had it: nothing was acked, retry. */
export class MessageLostError extends Error {
  override name = 'MessageLostError';
}

type Waiter = { message: StoredMessage; resolve: (d: Durable) => void; reject: (err: unknown) => void };
/** One room's messages waiting for its next commit; listed while a commit of the room is due or under way. */
type RoomCommits = { room: Room; waiting: Waiter[] };

export type Durability = ReturnType<typeof createDurability>;

export function createDurability(ctx: WorkerContext, history: History) {
  const strict = ctx.config.ACK_DURABILITY === 'postgres';
  const rooms = new Map<string, RoomCommits>();

  /** Commits the room's waiting messages, then again while more came meanwhile. */
  async function commitRoom(key: string, commits: RoomCommits): Promise<void> {
    while (commits.waiting.length > 0) {
      const batch = commits.waiting.splice(0);
      try {
        const outcomes = await storeDurably(ctx.db, commits.room, batch.map((w) => w.message));
        for (const w of batch) w.resolve(outcomes.get(w.message.id)!);
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

    /** Resolves once `message` (just appended) may be acked: at once, or once committed in Postgres. */
    settle(message: StoredMessage): Promise<Settled> {
      return strict ? settled(message) : Promise.resolve({ message, duplicate: false });
    },

    /** The message a resend repeats (stored at `seq`), once it may be acked again; undefined if no longer stored. */
    async original(room: Room, seq: number): Promise<StoredMessage | undefined> {
      const [original] = await history.read(room, seq - 1, seq);
      if (!strict) return original;
      if (!original) throw new MessageLostError(`the message at seq ${seq} that this send repeats is no longer stored`);
      return (await settled(original)).message;
    },
  };
}
