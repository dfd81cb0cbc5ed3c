// The seam of the room facts cache: one value per room (its facts as JSON, "meta"), which
// service operations overwrite and readers only fill. The message workers' append checks it as
// it stores (in Redis inside the append script; in memory by reading roomMetaOf directly).
import type { HotState } from '@lomi/hot-state';
import type { Room } from '@lomi/protocol';
import { createMemoryRoomMeta } from './room-meta-memory';
import { createRedisRoomMeta } from './room-meta-redis';

export interface RoomMetaStore {
  /** The cached meta value, or null when none is cached. */
  get(room: Room): Promise<string | null>;
  /** Caches `meta` for `ttlSeconds` unless a value is cached already. */
  fill(room: Room, meta: string, ttlSeconds: number): Promise<void>;
  /** Caches `meta` for `ttlSeconds`, replacing any cached value. */
  set(room: Room, meta: string, ttlSeconds: number): Promise<void>;
}

export function createRoomMetaStore(hot: HotState): RoomMetaStore {
  return hot.kind === 'redis' ? createRedisRoomMeta(hot.redis, hot.keys) : createMemoryRoomMeta(hot.memory);
}
