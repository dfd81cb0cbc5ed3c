// Whether a user is online, for every service that must know (the offline webhook reads it):
// keys.userConnections(user) holds each of their sockets on any gateway with an expiry that the
// gateway's heartbeats push forward, so a socket of a gateway that died stops counting by itself.
import type { lomi } from '@lomi/protocol';
import type { PresenceContext } from './context';

export type UserConnections = ReturnType<typeof createUserConnections>;

export function createUserConnections(ctx: PresenceContext) {
  const { redis, keys } = ctx;

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
      const pipeline = redis.pipeline();
      for (const { connectionId, userId } of connections) {
        const key = keys.userConnections(userId ?? '');
        pipeline.zadd(key, 'GT', expiry, connectionId ?? '');
        pipeline.zremrangebyscore(key, '-inf', now);
        // No member expires later than now + TTL (gateways share the TTL).
        pipeline.pexpire(key, report.ttlMs);
      }
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
