// User connections in this process's memory: user → (connection id → expiry), with the Redis
// key's TTL on each user's entry.
import type { MemoryNamespace } from '@lomi/hot-state';
import { byUser, type UserConnectionsStore } from './user-connections';

export function createMemoryUserConnections(memory: MemoryNamespace): UserConnectionsStore {
  const users = memory.part('user-connections', () => memory.ttlMap<string, Map<string, number>>());

  return {
    async open(connections, report) {
      const now = memory.now();
      const expiry = report.sentAtMs + report.ttlMs;
      if (connections.length === 0 || expiry <= now) return;
      for (const [userId, ids] of byUser(connections)) {
        const sockets = users.get(userId) ?? new Map<string, number>();
        for (const [id, at] of sockets) if (at <= now) sockets.delete(id);
        // A late report never shortens the expiry a newer one set.
        for (const id of ids) sockets.set(id, Math.max(sockets.get(id) ?? -Infinity, expiry));
        // No socket expires later than now + TTL (gateways share the TTL).
        users.set(userId, sockets, report.ttlMs);
      }
    },

    async close(connections) {
      for (const { connectionId, userId } of connections) {
        const sockets = users.get(userId);
        if (!sockets) continue;
        sockets.delete(connectionId);
        if (sockets.size === 0) users.delete(userId);
      }
    },

    async isOnline(userId) {
      const now = memory.now();
      for (const expiry of users.get(userId)?.values() ?? []) if (expiry >= now) return true;
      return false;
    },
  };
}
