// The digest in Redis: one hash per room (keys.joinLeaveDigest), changed by one script per call.
import type { Keys } from '@lomi/hot-state';
import type Redis from 'ioredis';
import type { Result } from 'ioredis';
import { DIGEST_KEEP_MS, type Announced, type Digest, type DigestSettings, type JoinLeaveDigestStore } from './join-leave-digest';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiAnnounce(
      digestKey: string,
      kind: Announced,
      firstUser: string,
      count: number,
      small: 0 | 1,
      singlesPerInterval: number,
      intervalMs: number,
      keepMs: number,
    ): Result<0 | 1, Context>;
    lomiDigestTake(digestKey: string, intervalMs: number): Result<[number, ...string[]], Context>;
  }
}

// KEYS: digest hash. ARGV: kind, first user, count, small (1: the room is small before and after
// the change), single messages allowed per interval, interval ms, keep ms.
// Returns 1 when the caller is to announce the users one by one (counted against the interval's
// allowance), 0 when they were added to the kind's digest, whose window opens with its first entry.
const ANNOUNCE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[3])
local gathering = redis.call('HEXISTS', KEYS[1], 'joined:since') == 1 or redis.call('HEXISTS', KEYS[1], 'left:since') == 1
if ARGV[4] == '1' and not gathering then
  local since = tonumber(redis.call('HGET', KEYS[1], 'single:since') or '0')
  local used = 0
  if now - since < tonumber(ARGV[6]) then used = tonumber(redis.call('HGET', KEYS[1], 'single:n') or '0') else since = now end
  if used + n <= tonumber(ARGV[5]) then
    redis.call('HSET', KEYS[1], 'single:since', string.format('%d', since), 'single:n', used + n)
    redis.call('PEXPIRE', KEYS[1], ARGV[7])
    return 1
  end
end
redis.call('HSETNX', KEYS[1], ARGV[1] .. ':first', ARGV[2])
redis.call('HSETNX', KEYS[1], ARGV[1] .. ':since', string.format('%d', now))
redis.call('HINCRBY', KEYS[1], ARGV[1] .. ':n', n)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 0
`;

// KEYS: digest hash. ARGV: interval ms. Takes every kind whose window is over:
// returns {1 if a digest is still gathering else 0, kind, first user, count, window start, …}.
const DIGEST_TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = {}
local gathering = 0
for _, kind in ipairs({'joined', 'left'}) do
  local since = redis.call('HGET', KEYS[1], kind .. ':since')
  if since and now - tonumber(since) >= tonumber(ARGV[1]) then
    local fields = {kind .. ':first', kind .. ':n', kind .. ':since'}
    local values = redis.call('HMGET', KEYS[1], unpack(fields))
    redis.call('HDEL', KEYS[1], unpack(fields))
    table.insert(due, kind)
    table.insert(due, values[1])
    table.insert(due, values[2])
    table.insert(due, since)
  elseif since then
    gathering = 1
  end
end
table.insert(due, 1, gathering)
return due
`;

export function createRedisJoinLeaveDigest(redis: Redis, keys: Keys, settings: DigestSettings): JoinLeaveDigestStore {
  redis.defineCommand('lomiAnnounce', { numberOfKeys: 1, lua: ANNOUNCE });
  redis.defineCommand('lomiDigestTake', { numberOfKeys: 1, lua: DIGEST_TAKE });

  return {
    announce: async (room, kind, firstUser, count, small) =>
      (await redis.lomiAnnounce(keys.joinLeaveDigest(room), kind, firstUser, count, small ? 1 : 0, settings.singlesPerInterval, settings.intervalMs, DIGEST_KEEP_MS)) ===
      1,

    async take(room) {
      const [gathering, ...flat] = await redis.lomiDigestTake(keys.joinLeaveDigest(room), settings.intervalMs);
      const due: Digest[] = [];
      for (let i = 0; i + 3 < flat.length; i += 4) {
        due.push({ kind: flat[i] as Announced, firstUser: flat[i + 1]!, count: Number(flat[i + 2]), since: Number(flat[i + 3]) });
      }
      return { due, gathering: gathering === 1 };
    },
  };
}
