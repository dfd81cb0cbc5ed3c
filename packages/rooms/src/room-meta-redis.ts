import type { Keys } from '@lomi/hot-state';
import type Redis from 'ioredis';
import type { RoomMetaStore } from './room-meta';

/** The room's meta key (keys.meta), which the append script reads in the same slot. */
export function createRedisRoomMeta(redis: Redis, keys: Keys): RoomMetaStore {
  return {
    get: (room) => redis.get(keys.meta(room)),
    fill: async (room, meta, ttlSeconds) => void (await redis.set(keys.meta(room), meta, 'EX', ttlSeconds, 'NX')),
    set: async (room, meta, ttlSeconds) => void (await redis.set(keys.meta(room), meta, 'EX', ttlSeconds)),
  };
}
