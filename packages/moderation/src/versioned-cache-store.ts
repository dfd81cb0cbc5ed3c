// The seam of the moderation caches: per piece (a room's settings, a room's timeouts and bans, a
// scope's users) one value at a version, written only if newer (versioned-cache.ts says why).
import type { HotState, Keys } from '@lomi/hot-state';
import { createMemoryVersionedCacheStore } from './versioned-cache-store-memory';
import { createRedisVersionedCacheStore } from './versioned-cache-store-redis';

/** One kind of cached piece: how its pieces are named, and how long one is kept after a write. */
export interface CachedPiece<K> {
  /** The kind's name (its own part of the memory state). */
  name: string;
  /** A piece's identity among its kind, e.g. roomKey. */
  id(k: K): string;
  /** A piece's Redis key. */
  redisKey(keys: Keys, k: K): string;
  ttlSeconds: number;
}

export interface VersionedCacheStore<K> {
  /** The cached value, or null when none is cached. */
  get(k: K): Promise<Buffer | null>;
  /**
   * Caches `value` at `version` for the kind's TTL, unless the cache holds this version or a
   * newer one; returns whether it wrote.
   */
  writeIfNewer(k: K, version: number, value: string | Buffer): Promise<boolean>;
  /** Drops the cached value, as an eviction or a cache that restarted empty would (the next read loads the record). */
  forget(k: K): Promise<void>;
}

export function createVersionedCacheStore<K>(hot: HotState, piece: CachedPiece<K>): VersionedCacheStore<K> {
  return hot.kind === 'redis' ? createRedisVersionedCacheStore(hot.redis, hot.keys, piece) : createMemoryVersionedCacheStore(hot.memory, piece);
}
