// Room presence in Redis: one Lua script per operation on the room's keys (one Cluster slot).
// The sorted set keys.presence holds "<user>|<gateway>" entries scored by expiry, and the hash
// keys.viewers of user → entry count tells a user's first entry (arrival) and last one
// (departure) apart from the rest, so the viewer count — the hash's size — is O(1).
import type { Keys } from '@lomi/hot-state';
import type { Room } from '@lomi/protocol';
import type Redis from 'ioredis';
import type { Result } from 'ioredis';
import {
  PRESENCE_KEEP_MS,
  type PresenceChange,
  type PresenceReport,
  type RoomPresenceStore,
  type RoomViewers,
  type Session,
  type ViewerPushPolicy,
} from './room-presence';
import { mergeChanges, scriptParts } from './presence-parts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiPresence(
      presenceKey: string,
      viewersKey: string,
      sinceKey: string,
      statsKey: string,
      everKey: string,
      leftKey: string,
      op: PresenceOp,
      gatewayId: string,
      ttlMs: number,
      pushIntervalMs: number,
      keepMs: number,
      sentAtMs: number,
      pushDeliveriesPerS: number,
      pushIntervalMaxMs: number,
      ...userIds: string[]
    ): Result<[number, number, number, number, string[], string[]], Context>;
  }
}

type PresenceOp = 'add' | 'remove' | 'sweep' | 'end';

// KEYS: presence (zset entry → expiry ms), viewers (hash user → entries), since (hash user →
//       session start ms), stats (hash: peak, pushed, pushed_at, ended), ever (set of users),
//       left (zset entry → when its gateway reported the leave)
// ARGV: op, gateway id, ttl ms, shortest push interval ms, keep ms, report sent at (ms),
//       push deliveries per second, longest push interval ms, user ids…
//   add: create or refresh the users' entries of this gateway until sent at + ttl
//   remove: drop them; sweep: only expire; end: drop every entry and refuse new ones
// Several workers may apply one gateway's reports out of order, so a report never undoes a newer
// one: an entry's last refresh is its expiry − ttl, and a leave is remembered (until no report
// that old can count any more) so that an older heartbeat cannot bring the user back.
// Returns {count, peak, distinct viewers ever, pushed (1: publish the count now),
//          {user, since, …} arrived, {user, since, …} departed}.
const PRESENCE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowText = string.format('%d', now)
local op, gateway, ttl, interval, keep = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local sentAt = tonumber(ARGV[6])
local budget, longest = tonumber(ARGV[7]), tonumber(ARGV[8])
local arrivals, departures = {}, {}
local function depart(entry)
  local user = string.match(entry, '^(.*)|[^|]*$')
  if redis.call('HINCRBY', KEYS[2], user, -1) > 0 then return end
  redis.call('HDEL', KEYS[2], user)
  table.insert(departures, user)
  table.insert(departures, redis.call('HGET', KEYS[3], user) or nowText)
  redis.call('HDEL', KEYS[3], user)
end
local gone = op == 'end' and redis.call('ZRANGE', KEYS[1], 0, -1) or redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, entry in ipairs(gone) do
  redis.call('ZREM', KEYS[1], entry)
  depart(entry)
end
if op == 'end' then redis.call('HSET', KEYS[4], 'ended', '1') end
local ended = redis.call('HGET', KEYS[4], 'ended') == '1'
if op == 'add' and not ended and sentAt + ttl > now then
  -- A leave older than the TTL cannot be overtaken by any report still valid.
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now - ttl)
  for i = 9, #ARGV do
    local user = ARGV[i]
    local entry = user .. '|' .. gateway
    local left = redis.call('ZSCORE', KEYS[6], entry)
    if not left or tonumber(left) < sentAt then
      if left then redis.call('ZREM', KEYS[6], entry) end
      -- GT: a late report never shortens the expiry a newer one set.
      if redis.call('ZADD', KEYS[1], 'GT', sentAt + ttl, entry) == 1 and redis.call('HINCRBY', KEYS[2], user, 1) == 1 then
        redis.call('HSET', KEYS[3], user, nowText)
        redis.call('SADD', KEYS[5], user)
        table.insert(arrivals, user)
        table.insert(arrivals, nowText)
      end
    end
  end
elseif op == 'remove' then
  for i = 9, #ARGV do
    local entry = ARGV[i] .. '|' .. gateway
    local expiry = redis.call('ZSCORE', KEYS[1], entry)
    if not expiry or tonumber(expiry) - ttl <= sentAt then
      redis.call('ZADD', KEYS[6], 'GT', sentAt, entry)
      if expiry then
        redis.call('ZREM', KEYS[1], entry)
        depart(entry)
      end
    end
  end
end
local count = redis.call('HLEN', KEYS[2])
local peak = math.max(tonumber(redis.call('HGET', KEYS[4], 'peak') or '0'), count)
redis.call('HSET', KEYS[4], 'peak', peak)
-- Coalescing: publish only a count not yet published, and at most once per interval; a change
-- held back here is published by a later sweep of the room. Every push goes to every viewer, so
-- a big room's interval grows with it, up to the longest.
local pushed = 0
interval = math.max(interval, math.min(count * 1000 / budget, longest))
if not ended and tostring(count) ~= redis.call('HGET', KEYS[4], 'pushed')
    and now - tonumber(redis.call('HGET', KEYS[4], 'pushed_at') or '0') >= interval then
  redis.call('HSET', KEYS[4], 'pushed', count, 'pushed_at', nowText)
  pushed = 1
end
for i = 1, 6 do redis.call('PEXPIRE', KEYS[i], keep) end
return {count, peak, redis.call('SCARD', KEYS[5]), pushed, arrivals, departures}
`;

/** A push interval no count reaches: the part of a report that must not publish the count. */
const NEVER_PUSH = Number.MAX_SAFE_INTEGER;
const none: PresenceReport = { gatewayId: '', ttlMs: 0, sentAtMs: 0 };

function sessions(flat: string[]): Session[] {
  const result: Session[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) result.push({ userId: flat[i]!, since: Number(flat[i + 1]) });
  return result;
}

export function createRedisRoomViewers(redis: Redis, keys: Keys): RoomViewers {
  return {
    count: (room) => redis.hlen(keys.viewers(room)),
    async counted(room, userIds) {
      if (userIds.length === 0) return [];
      return (await redis.hmget(keys.viewers(room), ...userIds)).map((v) => v !== null);
    },
  };
}

export function createRedisRoomPresence(redis: Redis, keys: Keys, policy: ViewerPushPolicy): RoomPresenceStore {
  redis.defineCommand('lomiPresence', { numberOfKeys: 6, lua: PRESENCE });

  async function runScript(room: Room, op: PresenceOp, report: PresenceReport, userIds: string[], pushIntervalMs: number): Promise<PresenceChange> {
    const [count, peak, everCount, push, arrivals, departures] = await redis.lomiPresence(
      keys.presence(room),
      keys.viewers(room),
      keys.viewingSince(room),
      keys.viewerStats(room),
      keys.viewersEver(room),
      keys.presenceLeft(room),
      op,
      report.gatewayId,
      report.ttlMs,
      pushIntervalMs,
      PRESENCE_KEEP_MS,
      report.sentAtMs,
      policy.deliveriesPerS,
      policy.intervalMaxMs,
      ...userIds,
    );
    return { room, count, peak, everCount, push: push === 1, arrivals: sessions(arrivals), departures: sessions(departures) };
  }

  async function run(room: Room, op: PresenceOp, report: PresenceReport, userIds: string[] = []): Promise<PresenceChange> {
    // All parts are sent at once, with no await in between, so they run in order and before
    // the next report's commands; other clients' commands run between them.
    const parts = scriptParts(userIds).map((part) => runScript(room, op, report, part.userIds, part.mayPush ? policy.intervalMs : NEVER_PUSH));
    return mergeChanges(await Promise.all(parts));
  }

  return {
    ...createRedisRoomViewers(redis, keys),
    add: (room, report, userIds) => run(room, 'add', report, userIds),
    remove: (room, report, userIds) => run(room, 'remove', report, userIds),
    sweep: (room) => run(room, 'sweep', none),
    end: (room) => run(room, 'end', none),
  };
}
