import type { Keys } from '@lomi/hot-state';
import type { Redis, Result } from 'ioredis';
import type { CachedPiece, VersionedCacheStore } from './versioned-cache-store';

const WRITE_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 's', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiWriteIfNewer(key: string, version: number, value: Uint8Array | string, ttlSeconds: number): Result<number, Context>;
  }
}

/** One hash per piece: the value `s` written at version `v`. */
export function createRedisVersionedCacheStore<K>(redis: Redis, keys: Keys, piece: CachedPiece<K>): VersionedCacheStore<K> {
  // A defined command (EVALSHA with its key first), not EVAL: a cluster client routes by the key.
  redis.defineCommand('lomiWriteIfNewer', { numberOfKeys: 1, lua: WRITE_IF_NEWER });
  return {
    get: (k) => redis.hgetBuffer(piece.redisKey(keys, k), 's'),
    async writeIfNewer(k, version, value) {
      return (await redis.lomiWriteIfNewer(piece.redisKey(keys, k), version, value, piece.ttlSeconds)) === 1;
    },
    forget: async (k) => void (await redis.del(piece.redisKey(keys, k))),
  };
}
