// Typing in this process's memory, with the Redis script's semantics: each operation runs
// synchronously on the room's state.
import { bySortedSetOrder, type MemoryNamespace } from '@lomi/hot-state';
import { roomKey, type Room } from '@lomi/protocol';
import { parseRoomKey } from './room-key';
import { typingKeepMs, type TypingChange, type TypingSettings, type TypingStore } from './typing';

interface RoomTyping {
  /** User → when their typing ends (Unix ms). */
  typists: Map<string, number>;
  /** User → their last "typing" push. */
  pushed: Map<string, number>;
}

type TypingOp = 'start' | 'stop' | 'sweep';

export function createMemoryTyping(memory: MemoryNamespace, settings: TypingSettings): TypingStore {
  const { rooms, users } = memory.part('typing', () => ({
    rooms: memory.ttlMap<string, RoomTyping>(),
    /** User → roomKey → the connection they type from there. */
    users: memory.ttlMap<string, Map<string, string>>(),
  }));
  const keepMs = typingKeepMs(settings);

  function run(room: Room, op: TypingOp, userId = ''): TypingChange {
    const now = memory.now();
    const key = roomKey(room);
    const state: RoomTyping = rooms.get(key) ?? { typists: new Map(), pushed: new Map() };
    const { typists, pushed } = state;
    const ended = [...typists].filter(([, until]) => until <= now);
    ended.sort(bySortedSetOrder);
    const expired: string[] = [];
    for (const [typist] of ended) {
      typists.delete(typist);
      // A typist renewing right now has not stopped.
      if (!(op === 'start' && typist === userId)) expired.push(typist);
    }
    let push: TypingChange['push'];
    if (op === 'start') {
      typists.set(userId, now + settings.timeoutMs);
      const last = pushed.get(userId);
      if (last === undefined || now - last >= settings.pushIntervalMs) {
        pushed.set(userId, now);
        push = 'typing';
      }
    } else if (op === 'stop' && typists.delete(userId)) push = 'stopped';
    for (const [user, at] of pushed) if (now - at >= settings.pushIntervalMs) pushed.delete(user);
    rooms.set(key, state, keepMs);

    for (const typist of op === 'stop' ? [userId, ...expired] : expired) {
      const typingIn = users.get(typist);
      typingIn?.delete(key);
      if (typingIn?.size === 0) users.delete(typist);
    }
    return { push, expired, typing: typists.size };
  }

  return {
    async start(room, userId, connectionId) {
      const typingIn = users.get(userId) ?? new Map<string, string>();
      typingIn.set(roomKey(room), connectionId);
      users.set(userId, typingIn, keepMs);
      return run(room, 'start', userId);
    },
    stop: async (room, userId) => run(room, 'stop', userId),
    sweep: async (room) => run(room, 'sweep'),
    typingFrom: async (connections) =>
      connections.map(({ userId, connectionId }) =>
        [...(users.get(userId) ?? [])]
          .filter(([, connection]) => connection === connectionId)
          .map(([key]) => parseRoomKey(key))
          .filter((r): r is Room => r !== undefined),
      ),
  };
}
