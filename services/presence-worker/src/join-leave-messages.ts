// Joins and leaves of distinct viewers become SYSTEM messages in the live room, stored by a
// message worker (so they have a seq and are replayed like any message). What decides how is the
// burst, not only the room's size after it: a change (one gateway report's arrivals or
// departures in a room) is announced one message per viewer only while the room is small —
// at most JOIN_AGGREGATE_ABOVE viewers both before and after it — no digest of the room is
// gathering, and the room's single messages of the current JOIN_AGGREGATE_INTERVAL_MS stay
// within JOIN_SINGLE_MESSAGES_PER_INTERVAL. Anything else goes into the interval's digest, one
// per kind ("alice and 37 others joined"); a room larger than JOIN_MESSAGES_MAX_ROOM before or
// after gets none — N joins × N viewers is what floods a big room (Twitch stops JOIN/PART there
// too). So a gateway draining 500 viewers, or 500 of them coming back at once, writes a few
// digests instead of 500 messages that every rejoining viewer would have to recover.
// The decision and the digest are made in Redis, in one script per change, so that every
// presence worker adds to the same digest and exactly one of them (the one whose script takes
// it) sends it.
import { internal, type Room } from '@lomi/protocol';
import type { Result } from 'ioredis';
import type { PresenceContext } from './context';
import type { PresenceChange, Session } from './room-presence';

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

type Announced = 'joined' | 'left';

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

/** Longer than any digest window, so a forgotten digest goes away on its own. */
const DIGEST_KEEP_MS = 10 * 60 * 1000;

/** "alice joined", "alice and 1 other joined", "alice and 37 others joined". */
function describe(kind: Announced, firstUser: string, count: number): string {
  const others = count - 1;
  if (others === 0) return `${firstUser} ${kind}`;
  return `${firstUser} and ${others} ${others === 1 ? 'other' : 'others'} ${kind}`;
}

export type JoinLeaveMessages = ReturnType<typeof createJoinLeaveMessages>;

export function createJoinLeaveMessages(ctx: PresenceContext) {
  const { redis, keys, config, bus, subjects, metrics, log } = ctx;
  redis.defineCommand('lomiAnnounce', { numberOfKeys: 1, lua: ANNOUNCE });
  redis.defineCommand('lomiDigestTake', { numberOfKeys: 1, lua: DIGEST_TAKE });

  /** Asks a message worker to store the message; a failure costs one announcement, nothing else. */
  async function post(room: Room, content: string, clientMsgId: string): Promise<void> {
    try {
      const reply = internal.SystemMessageReply.decode(
        await bus.request(subjects.systemMessages, internal.SystemMessageRequest.encode({ room, content, clientMsgId }).finish()),
      );
      if (reply.error) {
        metrics.systemMessages.inc({ outcome: 'refused' });
        log.debug({ room: room.id, error: reply.error.message }, 'join/leave message refused');
      } else metrics.systemMessages.inc({ outcome: 'stored' });
    } catch (err) {
      metrics.systemMessages.inc({ outcome: 'unavailable' });
      log.warn({ room: room.id, err: (err as Error).message }, 'join/leave message not stored');
    }
  }

  async function announce(room: Room, largest: number, kind: Announced, sessions: Session[]): Promise<void> {
    const first = sessions[0];
    if (!config.JOIN_LEAVE_MESSAGES || !first || largest > config.JOIN_MESSAGES_MAX_ROOM) return;
    const one = await redis.lomiAnnounce(
      keys.joinLeaveDigest(room),
      kind,
      first.userId,
      sessions.length,
      largest <= config.JOIN_AGGREGATE_ABOVE ? 1 : 0,
      config.JOIN_SINGLE_MESSAGES_PER_INTERVAL,
      config.JOIN_AGGREGATE_INTERVAL_MS,
      DIGEST_KEEP_MS,
    );
    if (one !== 1) return;
    // The session's start makes the id unique per join (and per leave), so a retry stores it once.
    await Promise.all(sessions.map((s) => post(room, describe(kind, s.userId, 1), `${kind}:${s.userId}:${s.since}`)));
  }

  return {
    /** Announces the change's arrivals and departures as the room's size allows. */
    async announce(change: PresenceChange): Promise<void> {
      // The room's size on both sides of the change: a mass leave ends in a small room.
      const before = change.count - change.arrivals.length + change.departures.length;
      const largest = Math.max(before, change.count);
      await announce(change.room, largest, 'joined', change.arrivals);
      await announce(change.room, largest, 'left', change.departures);
    },

    /** Sends the room's digests whose interval is over; returns whether any is still gathering. */
    async flushDigests(room: Room): Promise<boolean> {
      const [gathering, ...due] = await redis.lomiDigestTake(keys.joinLeaveDigest(room), config.JOIN_AGGREGATE_INTERVAL_MS);
      for (let i = 0; i + 3 < due.length; i += 4) {
        const kind = due[i] as Announced;
        // The window's start makes the id unique per digest, so a retry stores it once.
        await post(room, describe(kind, due[i + 1]!, Number(due[i + 2])), `${kind}-digest:${due[i + 3]}`);
      }
      return gathering === 1;
    },
  };
}
