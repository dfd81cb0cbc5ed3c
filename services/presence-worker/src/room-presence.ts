// Who is in a live room, held in Redis so that every presence worker sees the same thing and a
// dead gateway's viewers expire on their own. One entry per user per gateway ("<user>|<gateway>"
// in a sorted set scored by expiry): a user on two gateways holds two entries, and the hash of
// user → entry count tells a user's first entry (arrival) and last one (departure) apart from
// the rest, so the viewer count — the hash's size — counts distinct users exactly, in O(1).
// Every operation is one Lua script on the room's keys (one Cluster slot) that first drops the
// expired entries, so nothing anyone reads is ever stale by more than the sweep that just ran.
import type { Room } from '@lomi/protocol';
import type { Result } from 'ioredis';
import type { PresenceContext } from './context';

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

/** How long a room's presence keys outlive its last activity (its peak and total included). */
const KEEP_MS = 24 * 3600 * 1000;
/**
 * Users per script run. A script holds Redis for its whole run, and a heartbeat lists every
 * viewer a gateway has in the room: at 10k viewers, 5,000 users in one run held Redis for
 * 10–50 ms (its SLOWLOG during `pnpm bench`), and every send's append, every ack and every
 * delivery of every room waited behind it. 256 users take about a millisecond.
 */
export const USERS_PER_SCRIPT = 256;
/** A push interval no count reaches: the part of a report that must not publish the count. */
const NEVER_PUSH = Number.MAX_SAFE_INTEGER;

/** A viewing session: the user and when it began (Unix ms). */
export interface Session {
  userId: string;
  since: number;
}

/** What one operation did to a live room. */
export interface PresenceChange {
  room: Room;
  /** Distinct users present now. */
  count: number;
  peak: number;
  /** Distinct users who have ever been present. */
  everCount: number;
  /** True when this count is to be published now (see the coalescing in the script). */
  push: boolean;
  arrivals: Session[];
  departures: Session[];
}

function sessions(flat: string[]): Session[] {
  const result: Session[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) result.push({ userId: flat[i]!, since: Number(flat[i + 1]) });
  return result;
}

export type RoomPresence = ReturnType<typeof createRoomPresence>;

export function createRoomPresence(ctx: PresenceContext) {
  const { redis, keys, config } = ctx;
  redis.defineCommand('lomiPresence', { numberOfKeys: 6, lua: PRESENCE });

  /** What a gateway report says: its gateway, its TTL and when it was sent. */
  type Report = { gatewayId: string; ttlMs: number; sentAtMs: number };
  const none: Report = { gatewayId: '', ttlMs: 0, sentAtMs: 0 };

  async function runScript(room: Room, op: PresenceOp, report: Report, userIds: string[], pushIntervalMs: number): Promise<PresenceChange> {
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
      KEEP_MS,
      report.sentAtMs,
      config.VIEWER_PUSH_DELIVERIES_PER_S,
      config.VIEWER_PUSH_INTERVAL_MAX_MS,
      ...userIds,
    );
    return { room, count, peak, everCount, push: push === 1, arrivals: sessions(arrivals), departures: sessions(departures) };
  }

  async function run(room: Room, op: PresenceOp, report: Report, userIds: string[] = []): Promise<PresenceChange> {
    if (userIds.length <= USERS_PER_SCRIPT) return runScript(room, op, report, userIds, config.VIEWER_PUSH_INTERVAL_MS);
    // All parts are sent at once, with no await in between, so they run in order and before
    // the next report's commands; other clients' commands run between them. Only the last
    // part may publish the count: an earlier one would publish a count already out of date.
    const parts: Promise<PresenceChange>[] = [];
    for (let from = 0; from < userIds.length; from += USERS_PER_SCRIPT) {
      const last = from + USERS_PER_SCRIPT >= userIds.length;
      parts.push(runScript(room, op, report, userIds.slice(from, from + USERS_PER_SCRIPT), last ? config.VIEWER_PUSH_INTERVAL_MS : NEVER_PUSH));
    }
    const changes = await Promise.all(parts);
    const final = changes[changes.length - 1]!;
    return {
      ...final,
      peak: Math.max(...changes.map((c) => c.peak)),
      arrivals: changes.flatMap((c) => c.arrivals),
      departures: changes.flatMap((c) => c.departures),
    };
  }

  return {
    /** Creates or refreshes the users' entries of the report's gateway. */
    add: (room: Room, report: Report, userIds: string[]) => run(room, 'add', report, userIds),
    remove: (room: Room, report: Report, userIds: string[]) => run(room, 'remove', report, userIds),
    /** Drops expired entries; also publishes a count that an earlier change could not. */
    sweep: (room: Room) => run(room, 'sweep', none),
    /** The stream ended: everyone departs and nobody arrives any more. */
    end: (room: Room) => run(room, 'end', none),
  };
}
