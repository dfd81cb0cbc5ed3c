// The work list in this process's memory: roomKey → last touch (memory.now()), and the lock.
import { bySortedSetOrder, type MemoryNamespace } from '@lomi/hot-state';
import { roomKey, type Room } from '@lomi/protocol';
import { CLOCK_SKEW_MS, type ActiveRoomsStore } from './active-rooms';
import { parseRoomKey } from './room-key';

export function createMemoryActiveRooms(memory: MemoryNamespace): ActiveRoomsStore {
  const { touched, lock } = memory.part('active-rooms', () => ({
    touched: new Map<string, number>(),
    lock: memory.ttlMap<'sweep', string>(),
  }));

  return {
    touch: async (room) => void touched.set(roomKey(room), memory.now()),
    list: async () =>
      [...touched]
        .sort(bySortedSetOrder)
        .map(([key]) => parseRoomKey(key))
        .filter((r): r is Room => r !== undefined),
    async forgetIfIdle(room, sweepStartedAt) {
      const at = touched.get(roomKey(room));
      if (at !== undefined && at < sweepStartedAt - CLOCK_SKEW_MS) touched.delete(roomKey(room));
    },
    async lockSweep(holder, ttlMs) {
      if (lock.has('sweep')) return false;
      lock.set('sweep', holder, ttlMs);
      return true;
    },
  };
}
