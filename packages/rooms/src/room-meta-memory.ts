import type { MemoryNamespace, TtlMap } from '@lomi/hot-state';
import { roomKey } from '@lomi/protocol';
import type { RoomMetaStore } from './room-meta';

/** The namespace's meta values by roomKey: the memory room log's append checks them as it stores. */
export function roomMetaOf(memory: MemoryNamespace): TtlMap<string, string> {
  return memory.part('room-meta', () => memory.ttlMap<string, string>());
}

export function createMemoryRoomMeta(memory: MemoryNamespace): RoomMetaStore {
  const metas = roomMetaOf(memory);
  return {
    get: async (room) => metas.get(roomKey(room)) ?? null,
    fill: async (room, meta, ttlSeconds) => {
      if (!metas.has(roomKey(room))) metas.set(roomKey(room), meta, ttlSeconds * 1000);
    },
    set: async (room, meta, ttlSeconds) => metas.set(roomKey(room), meta, ttlSeconds * 1000),
  };
}
