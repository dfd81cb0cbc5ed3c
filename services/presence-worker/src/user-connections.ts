// Whether a user is online, for every service that must know (the offline webhook reads it):
// keys.userConnections(user) holds each of their sockets on any gateway with an expiry that the
// gateway's heartbeats push forward, so a socket of a gateway that died stops counting by itself.
import type { lomi } from '@lomi/protocol';
import type { Result } from 'ioredis';
import type { PresenceContext } from './context';

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

export type UserConnections = ReturnType<typeof createUserConnections>;

export function createUserConnections(ctx: PresenceContext) {
  const { redis, keys } = ctx;
  redis.defineCommand('lomiConnectionsOpen', { numberOfKeys: 1, lua: OPEN });

  return {
    /**
     * Records (or refreshes) open sockets until the report's sent-at + TTL, dropping each user's
     * expired ones. A late report never shortens a newer one's expiry (GT). A heartbeat processed
     * after the socket's close can list it again, for at most the TTL — the staleness every TTL
     * already allows.
     */
    async open(connections: lomi.internal.v1.IConnectionPresence[], report: { ttlMs: number; sentAtMs: number }): Promise<void> {
      const now = Date.now();
      const expiry = report.sentAtMs + report.ttlMs;
      if (connections.length === 0 || expiry <= now) return;
      const byUser = new Map<string, string[]>();
      for (const { connectionId, userId } of connections) {
        const user = userId ?? '';
        const ids = byUser.get(user);
        if (ids) ids.push(connectionId ?? '');
        else byUser.set(user, [connectionId ?? '']);
      }
      const pipeline = redis.pipeline();
      for (const [userId, ids] of byUser) pipeline.lomiConnectionsOpen(keys.userConnections(userId), now, expiry, report.ttlMs, ...ids);
      await pipeline.exec();
    },

    /** Forgets closed sockets; a report can carry thousands (a gateway stopping), so one pipeline. */
    async close(connections: lomi.internal.v1.IConnectionPresence[]): Promise<void> {
      if (connections.length === 0) return;
      const pipeline = redis.pipeline();
      for (const { connectionId, userId } of connections) pipeline.zrem(keys.userConnections(userId ?? ''), connectionId ?? '');
      await pipeline.exec();
    },
  };
}
