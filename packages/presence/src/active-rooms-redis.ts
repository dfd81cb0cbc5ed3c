// The work list in Redis: keys.presenceRooms (zset roomKey → last touch ms, by the worker's
// clock); the lock is keys.presenceSweepLock (SET NX PX).
import type { Keys } from '@lomi/hot-state';
import { roomKey, type Room } from '@lomi/protocol';
import type Redis from 'ioredis';
import type { Result } from 'ioredis';
import { CLOCK_SKEW_MS, type ActiveRoomsStore } from './active-rooms';
import { parseRoomKey } from './room-key';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiForgetIdleRoom(roomsKey: string, room: string, cutoffMs: number): Result<number, Context>;
  }
}

// KEYS: the work list; ARGV: room key, cutoff (Unix ms). Removes the room if untouched since the cutoff.
const FORGET_IF_IDLE = `
local touched = redis.call('ZSCORE', KEYS[1], ARGV[1])
if touched and tonumber(touched) < tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

export function createRedisActiveRooms(redis: Redis, keys: Keys): ActiveRoomsStore {
  redis.defineCommand('lomiForgetIdleRoom', { numberOfKeys: 1, lua: FORGET_IF_IDLE });

  return {
    async touch(room) {
      await redis.zadd(keys.presenceRooms, Date.now(), roomKey(room));
    },
    async list() {
      const members = await redis.zrange(keys.presenceRooms, 0, -1);
      return members.map(parseRoomKey).filter((r): r is Room => r !== undefined);
    },
    async forgetIfIdle(room, sweepStartedAt) {
      await redis.lomiForgetIdleRoom(keys.presenceRooms, roomKey(room), sweepStartedAt - CLOCK_SKEW_MS);
    },
    lockSweep: async (holder, ttlMs) => (await redis.set(keys.presenceSweepLock, holder, 'PX', ttlMs, 'NX')) === 'OK',
  };
}
