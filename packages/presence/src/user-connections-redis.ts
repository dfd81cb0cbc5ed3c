// User connections in Redis: keys.userConnections(user) is a sorted set of connection id → expiry.
import { crossSlotPipeline, type Keys } from '@lomi/hot-state';
import type Redis from 'ioredis';
import type { Result } from 'ioredis';
import { byUser, type UserConnectionsStore } from './user-connections';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiConnectionsOpen(key: string, nowMs: number, expiryMs: number, ttlMs: number, ...connectionIds: string[]): Result<number, Context>;
  }
}

// KEYS: the user's connections (zset connection id → expiry ms)
// ARGV: now ms, expiry ms, TTL ms, connection ids…
// One script per user rather than its three commands: a heartbeat refreshes every socket of
// every gateway, and at 10k sockets the presence worker's time went mostly to building,
// writing and collecting ioredis commands (three per socket), during a connect burst too.
const OPEN = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for i = 4, #ARGV do
  -- GT: a late report never shortens the expiry a newer one set.
  redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[i])
end
-- No member expires later than now + TTL (gateways share the TTL).
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 0
`;

export function createRedisUserConnections(redis: Redis, keys: Keys): UserConnectionsStore {
  redis.defineCommand('lomiConnectionsOpen', { numberOfKeys: 1, lua: OPEN });

  return {
    async open(connections, report) {
      const now = Date.now();
      const expiry = report.sentAtMs + report.ttlMs;
      if (connections.length === 0 || expiry <= now) return;
      const pipeline = crossSlotPipeline(redis);
      for (const [userId, ids] of byUser(connections)) pipeline.lomiConnectionsOpen(keys.userConnections(userId), now, expiry, report.ttlMs, ...ids);
      await pipeline.exec();
    },

    // A report can carry thousands of closes (a gateway stopping), so one pipeline.
    async close(connections) {
      if (connections.length === 0) return;
      const pipeline = crossSlotPipeline(redis);
      for (const { connectionId, userId } of connections) pipeline.zrem(keys.userConnections(userId), connectionId);
      await pipeline.exec();
    },

    isOnline: async (userId) => (await redis.zcount(keys.userConnections(userId), Date.now(), '+inf')) > 0,
  };
}
