// When a stored message may be acked and published (ACK_DURABILITY). `redis`: as soon as the
// append script stored it. `postgres`: only once its row is committed in Postgres, so a Redis that
// loses its state loses nothing that was acked. The commits of one event-loop turn share one
// transaction per room (group commit); the persister later finds the rows there and skips them.
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

export type Durability = ReturnType<typeof createDurability>;

export function createDurability(ctx: WorkerContext, history: History) {
  const strict = ctx.config.ACK_DURABILITY === 'postgres';
  type Waiter = { message: StoredMessage; resolve: (d: Durable) => void; reject: (err: unknown) => void };
  let waiting = new Map<string, { room: Room; waiters: Waiter[] }>();

  async function commitRoom(room: Room, waiters: Waiter[]): Promise<void> {
    try {
      const outcomes = await storeDurably(ctx.db, room, waiters.map((w) => w.message));
      for (const w of waiters) w.resolve(outcomes.get(w.message.id)!);
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
  }

  function commit(message: StoredMessage): Promise<Durable> {
    const room = message.room ?? {};
    return new Promise((resolve, reject) => {
      if (waiting.size === 0) {
        void endOfTurn().then(() => {
          const turn = waiting;
          waiting = new Map();
          for (const { room, waiters } of turn.values()) void commitRoom(room, waiters);
        });
      }
      const key = roomKey(room);
      let group = waiting.get(key);
      if (!group) waiting.set(key, (group = { room, waiters: [] }));
      group.waiters.push({ message, resolve, reject });
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
