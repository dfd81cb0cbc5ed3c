// Typing in Redis: keys.typing(room) (zset user → expiry ms) and keys.typingPushedAt(room) (hash
// user → last "typing" push ms) change in one script; keys.userTyping(user) (hash roomKey →
// connection) is kept beside it.
import { crossSlotPipeline, type Keys } from '@lomi/hot-state';
import { roomKey, type Room } from '@lomi/protocol';
import type Redis from 'ioredis';
import type { Result } from 'ioredis';
import { parseRoomKey } from './room-key';
import { typingKeepMs, type TypingChange, type TypingSettings, type TypingStore } from './typing';

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

export function createRedisTyping(redis: Redis, keys: Keys, settings: TypingSettings): TypingStore {
  redis.defineCommand('lomiTyping', { numberOfKeys: 2, lua: TYPING });
  const keepMs = typingKeepMs(settings);

  async function run(room: Room, op: TypingOp, userId = ''): Promise<TypingChange> {
    const [push, expired, typing] = await redis.lomiTyping(keys.typing(room), keys.typingPushedAt(room), op, userId, settings.timeoutMs, settings.pushIntervalMs, keepMs);
    const stopped = op === 'stop' ? [userId, ...expired] : expired;
    await Promise.all(stopped.map((typist) => redis.hdel(keys.userTyping(typist), roomKey(room))));
    return { push: push === '' ? undefined : (push as 'typing' | 'stopped'), expired, typing };
  }

  return {
    async start(room, userId, connectionId) {
      await redis.multi().hset(keys.userTyping(userId), roomKey(room), connectionId).pexpire(keys.userTyping(userId), keepMs).exec();
      return run(room, 'start', userId);
    },
    stop: (room, userId) => run(room, 'stop', userId),
    sweep: (room) => run(room, 'sweep'),

    // Read in one pipeline: a report can carry thousands of closes (a gateway stopping).
    async typingFrom(connections) {
      if (connections.length === 0) return [];
      const pipeline = crossSlotPipeline(redis);
      for (const { userId } of connections) pipeline.hgetall(keys.userTyping(userId));
      const typingIn = (await pipeline.exec()) ?? [];
      return connections.map(({ connectionId }, i) => {
        const [err, rooms] = typingIn[i] ?? [];
        if (err) throw err;
        return Object.entries(rooms as Record<string, string>)
          .filter(([, connection]) => connection === connectionId)
          .map(([key]) => parseRoomKey(key))
          .filter((r): r is Room => r !== undefined);
      });
    },
  };
}
