// Joins and leaves of distinct viewers become SYSTEM messages in the live room, stored by a
// message worker (so they have a seq and are replayed like any message). Room size decides how:
// up to JOIN_AGGREGATE_ABOVE viewers one message per join or leave; up to JOIN_MESSAGES_MAX_ROOM
// one digest per kind per JOIN_AGGREGATE_INTERVAL_MS ("alice and 37 others joined"); above it
// none — N joins × N viewers is what floods a big room (Twitch stops JOIN/PART there too).
// Leaves follow the same rules as joins. The digest is gathered in Redis so that every presence
// worker adds to the same one and exactly one of them (the one whose script takes it) sends it.
import { internal, type Room } from '@lomi/protocol';
import type { Result } from 'ioredis';
import type { PresenceContext } from './context';
import type { PresenceChange, Session } from './room-presence';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiDigestAdd(digestKey: string, kind: Announced, firstUser: string, count: number, keepMs: number): Result<number, Context>;
    lomiDigestTake(digestKey: string, intervalMs: number): Result<[number, ...string[]], Context>;
  }
}

type Announced = 'joined' | 'left';

// KEYS: digest hash. ARGV: kind, first user, count, keep ms. The window opens with its first entry.
const DIGEST_ADD = `
local t = redis.call('TIME')
redis.call('HSETNX', KEYS[1], ARGV[1] .. ':first', ARGV[2])
redis.call('HSETNX', KEYS[1], ARGV[1] .. ':since', string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('HINCRBY', KEYS[1], ARGV[1] .. ':n', ARGV[3])
`;

// KEYS: digest hash. ARGV: interval ms. Takes every kind whose window is over:
// returns {1 if a digest is still gathering else 0, kind, first user, count, window start, …}.
const DIGEST_TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = {}
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
  end
end
table.insert(due, 1, redis.call('EXISTS', KEYS[1]))
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
  const { redis, keys, config, nc, subjects, metrics, log } = ctx;
  redis.defineCommand('lomiDigestAdd', { numberOfKeys: 1, lua: DIGEST_ADD });
  redis.defineCommand('lomiDigestTake', { numberOfKeys: 1, lua: DIGEST_TAKE });

  /** Asks a message worker to store the message; a failure costs one announcement, nothing else. */
  async function post(room: Room, content: string, clientMsgId: string): Promise<void> {
    try {
      const reply = internal.SystemMessageReply.decode(
        (
          await nc.request(subjects.systemMessages, internal.SystemMessageRequest.encode({ room, content, clientMsgId }).finish(), {
            timeout: config.REQUEST_TIMEOUT_MS,
          })
        ).data,
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

  async function announce(room: Room, count: number, kind: Announced, sessions: Session[]): Promise<void> {
    const first = sessions[0];
    if (!config.JOIN_LEAVE_MESSAGES || !first || count > config.JOIN_MESSAGES_MAX_ROOM) return;
    if (count > config.JOIN_AGGREGATE_ABOVE) {
      await redis.lomiDigestAdd(keys.joinLeaveDigest(room), kind, first.userId, sessions.length, DIGEST_KEEP_MS);
      return;
    }
    // The session's start makes the id unique per join (and per leave), so a retry stores it once.
    await Promise.all(sessions.map((s) => post(room, describe(kind, s.userId, 1), `${kind}:${s.userId}:${s.since}`)));
  }

  return {
    /** Announces the change's arrivals and departures as the room's size allows. */
    async announce(change: PresenceChange): Promise<void> {
      await announce(change.room, change.count, 'joined', change.arrivals);
      await announce(change.room, change.count, 'left', change.departures);
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
