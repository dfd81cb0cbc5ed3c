// Typing indicators of private rooms: ephemeral RoomEvents, never stored. State lives in Redis
// (any presence worker may get a member's next "typing") as a sorted set of user → expiry, so a
// "typing" nobody renews ends by itself; the sweeper pushes the "stopped". Pushes are throttled
// per user per room: a client sending "typing" 50 times a second makes one push a second.
// "stopped" goes out at once, but only for a user who was typing, so pushes stay bounded.
import { roomKey, internal, type lomi, type Room } from '@lomi/protocol';
import type { Result } from 'ioredis';
import { parseRoomKey, type ActiveRooms } from './active-rooms';
import type { PresenceContext } from './context';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiTyping(
      typingKey: string,
      pushedKey: string,
      op: TypingOp,
      userId: string,
      timeoutMs: number,
      pushIntervalMs: number,
      keepMs: number,
    ): Result<[string, string[], number], Context>;
  }
}

type TypingOp = 'start' | 'stop' | 'sweep';

// KEYS: typing (zset user → expiry ms), pushed (hash user → last "typing" push ms)
// ARGV: op, user, timeout ms, push interval ms, keep ms
// Returns {push: 'typing' | 'stopped' | '', users whose typing expired, users still typing}.
const TYPING = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op, user, timeout, interval = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local expired = {}
for _, typist in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  redis.call('ZREM', KEYS[1], typist)
  -- A typist renewing right now has not stopped.
  if not (op == 'start' and typist == user) then table.insert(expired, typist) end
end
local push = ''
if op == 'start' then
  redis.call('ZADD', KEYS[1], now + timeout, user)
  local last = redis.call('HGET', KEYS[2], user)
  if not last or now - tonumber(last) >= interval then
    redis.call('HSET', KEYS[2], user, string.format('%d', now))
    push = 'typing'
  end
elseif op == 'stop' then
  if redis.call('ZREM', KEYS[1], user) == 1 then push = 'stopped' end
end
-- Push times older than the interval throttle nothing any more: drop them, keeping the hash small.
local pushed = redis.call('HGETALL', KEYS[2])
for i = 1, #pushed, 2 do
  if now - tonumber(pushed[i + 1]) >= interval then redis.call('HDEL', KEYS[2], pushed[i]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {push, expired, redis.call('ZCARD', KEYS[1])}
`;

export type Typing = ReturnType<typeof createTyping>;

export function createTyping(ctx: PresenceContext, activeRooms: ActiveRooms) {
  const { redis, keys, config, bus, subjects, metrics } = ctx;
  redis.defineCommand('lomiTyping', { numberOfKeys: 2, lua: TYPING });
  // Longer than any typing or throttle, so idle keys go away on their own.
  const keepMs = 2 * Math.max(config.TYPING_TIMEOUT_MS, config.TYPING_PUSH_INTERVAL_MS);

  function push(room: Room, userId: string, typing: boolean): void {
    bus.publish(subjects.room(room), internal.RoomEvent.encode({ typing: { room, userId, typing } }).finish());
    metrics.pushes.inc({ kind: typing ? 'typing' : 'stopped' });
  }

  /** Runs the script, pushes what it says and forgets typists who stopped; returns how many still type. */
  async function run(room: Room, op: TypingOp, userId = ''): Promise<number> {
    const [pushNow, expired, typing] = await redis.lomiTyping(
      keys.typing(room),
      keys.typingPushedAt(room),
      op,
      userId,
      config.TYPING_TIMEOUT_MS,
      config.TYPING_PUSH_INTERVAL_MS,
      keepMs,
    );
    if (pushNow) push(room, userId, pushNow === 'typing');
    for (const typist of expired) push(room, typist, false);
    const stopped = op === 'stop' ? [userId, ...expired] : expired;
    await Promise.all(stopped.map((typist) => redis.hdel(keys.userTyping(typist), roomKey(room))));
    return typing;
  }

  return {
    /** A member typing (or not) on one connection; the caller has checked membership. */
    async set(room: Room, userId: string, connectionId: string, typing: boolean): Promise<void> {
      if (!typing) return void (await run(room, 'stop', userId));
      // Remembered per user, so the typist's socket closing can stop it (see `disconnected`).
      await redis.multi().hset(keys.userTyping(userId), roomKey(room), connectionId).pexpire(keys.userTyping(userId), keepMs).exec();
      await run(room, 'start', userId);
      await activeRooms.touch(room);
    },

    /** Ends each closed connection's typing, in every room its user was typing in from it. */
    async disconnected(closed: lomi.internal.v1.IConnectionPresence[]): Promise<void> {
      if (closed.length === 0) return;
      // Read in one pipeline: a report can carry thousands of closes (a gateway stopping).
      const pipeline = redis.pipeline();
      for (const { userId } of closed) pipeline.hgetall(keys.userTyping(userId ?? ''));
      const typingIn = (await pipeline.exec()) ?? [];
      const stops = closed.flatMap(({ userId, connectionId }, i) => {
        const [err, rooms] = typingIn[i] ?? [];
        if (err) throw err;
        return Object.entries(rooms as Record<string, string>)
          .filter(([, connection]) => connection === connectionId)
          .map(([key]) => parseRoomKey(key))
          .filter((r): r is Room => r !== undefined)
          .map((room) => run(room, 'stop', userId ?? ''));
      });
      await Promise.all(stops);
    },

    /** Ends expired typing; returns how many users still type in the room. */
    sweep: (room: Room) => run(room, 'sweep'),
  };
}
