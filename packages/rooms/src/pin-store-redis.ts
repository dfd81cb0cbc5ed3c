import type { Keys } from '@lomi/hot-state';
import type { Redis, Result } from 'ioredis';
import { decodeCachedPin, encodeCachedPin, type PinStore } from './pin-store';

const REMOVE_IF_DUE = `
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) <= tonumber(ARGV[1]) then redis.call('ZREM', KEYS[1], ARGV[i]) end
end
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiRemoveIfDue(key: string, nowMs: number, ...roomIds: string[]): Result<null, Context>;
  }
}

/** The room's pin key (keys.pin) and the sorted set of stream id → expiry (keys.pinExpiries). */
export function createRedisPinStore(redis: Redis, keys: Keys): PinStore {
  // A defined command (EVALSHA with its key first), not EVAL: a cluster client routes by the key.
  redis.defineCommand('lomiRemoveIfDue', { numberOfKeys: 1, lua: REMOVE_IF_DUE });
  return {
    async cached(room) {
      const value = await redis.getBuffer(keys.pin(room));
      return value ? decodeCachedPin(value) : undefined;
    },
    async cache(room, pin, ttlMs, onlyIfEmpty) {
      if (onlyIfEmpty) await redis.set(keys.pin(room), encodeCachedPin(pin), 'PX', ttlMs, 'NX');
      else await redis.set(keys.pin(room), encodeCachedPin(pin), 'PX', ttlMs);
    },
    forget: async (room) => void (await redis.del(keys.pin(room))),
    scheduleExpiry: async (roomId, atMs) => void (await redis.zadd(keys.pinExpiries, atMs, roomId)),
    cancelExpiry: async (roomId) => void (await redis.zrem(keys.pinExpiries, roomId)),
    due: (nowMs, limit) => redis.zrangebyscore(keys.pinExpiries, '-inf', nowMs, 'LIMIT', 0, limit),
    async removeIfDue(roomIds, nowMs) {
      if (roomIds.length > 0) await redis.lomiRemoveIfDue(keys.pinExpiries, nowMs, ...roomIds);
    },
  };
}
