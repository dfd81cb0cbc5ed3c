// Typing indicators of private rooms: ephemeral RoomEvents, never stored in history. State lives
// in the hot state (any presence worker may get a member's next "typing", TypingStore), so a
// "typing" nobody renews ends by itself; the sweeper pushes the "stopped". Pushes are throttled
// per user per room: a client sending "typing" 50 times a second makes one push a second.
// "stopped" goes out at once, but only for a user who was typing, so pushes stay bounded.
import type { ActiveRoomsStore, Connection, TypingChange, TypingStore } from '@lomi/presence';
import { internal, type Room } from '@lomi/protocol';
import type { PresenceContext } from './context';

export interface Typing {
  /** A member typing (or not) on one connection; the caller has checked membership. */
  set(room: Room, userId: string, connectionId: string, typing: boolean): Promise<void>;
  /** Ends each closed connection's typing, in every room its user was typing in from it. */
  disconnected(closed: Connection[]): Promise<void>;
  /** Ends expired typing; returns how many users still type in the room. */
  sweep(room: Room): Promise<number>;
}

export function createTyping(ctx: PresenceContext, store: TypingStore, activeRooms: ActiveRoomsStore): Typing {
  const { bus, subjects, metrics } = ctx;

  function push(room: Room, userId: string, typing: boolean): void {
    bus.publish(subjects.room(room), internal.RoomEvent.encode({ typing: { room, userId, typing } }).finish());
    metrics.pushes.inc({ kind: typing ? 'typing' : 'stopped' });
  }

  /** Pushes what a store operation says; returns how many still type. */
  function pushChange(room: Room, userId: string, change: TypingChange): number {
    if (change.push) push(room, userId, change.push === 'typing');
    for (const typist of change.expired) push(room, typist, false);
    return change.typing;
  }

  return {
    async set(room, userId, connectionId, typing) {
      if (!typing) return void pushChange(room, userId, await store.stop(room, userId));
      pushChange(room, userId, await store.start(room, userId, connectionId));
      await activeRooms.touch(room);
    },

    async disconnected(closed) {
      if (closed.length === 0) return;
      const typingIn = await store.typingFrom(closed);
      await Promise.all(closed.flatMap(({ userId }, i) => (typingIn[i] ?? []).map(async (room) => pushChange(room, userId, await store.stop(room, userId)))));
    },

    sweep: async (room) => pushChange(room, '', await store.sweep(room)),
  };
}
