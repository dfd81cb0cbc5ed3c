import { bySortedSetOrder, type MemoryNamespace } from '@lomi/hot-state';
import { roomKey } from '@lomi/protocol';
import { decodeCachedPin, encodeCachedPin, type PinStore } from './pin-store';

export function createMemoryPinStore(memory: MemoryNamespace): PinStore {
  const { pins, expiries } = memory.part('pins', () => ({
    /** Cached pins by roomKey. */
    pins: memory.ttlMap<string, Buffer>(),
    /** Room id → expiry (Unix ms). */
    expiries: new Map<string, number>(),
  }));
  return {
    async cached(room) {
      const value = pins.get(roomKey(room));
      return value ? decodeCachedPin(value) : undefined;
    },
    async cache(room, pin, ttlMs, onlyIfEmpty) {
      if (!onlyIfEmpty || !pins.has(roomKey(room))) pins.set(roomKey(room), encodeCachedPin(pin), ttlMs);
    },
    forget: async (room) => void pins.delete(roomKey(room)),
    scheduleExpiry: async (roomId, atMs) => void expiries.set(roomId, atMs),
    cancelExpiry: async (roomId) => void expiries.delete(roomId),
    async due(nowMs, limit) {
      return [...expiries]
        .filter(([, at]) => at <= nowMs)
        .sort(bySortedSetOrder)
        .slice(0, limit)
        .map(([id]) => id);
    },
    async removeIfDue(roomIds, nowMs) {
      for (const id of roomIds) if ((expiries.get(id) ?? Infinity) <= nowMs) expiries.delete(id);
    },
  };
}
