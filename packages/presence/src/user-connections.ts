// The seam of which sockets each user has open on any gateway: each with an expiry that its
// gateway's reports push ahead, so a socket of a gateway that died stops counting by itself.
// Whether a user is online (the offline webhook asks) is whether any expiry is still ahead.
import type { HotState } from '@lomi/hot-state';
import { createMemoryUserConnections } from './user-connections-memory';
import { createRedisUserConnections } from './user-connections-redis';

/** One socket of a user. */
export interface Connection {
  userId: string;
  connectionId: string;
}

export interface UserConnectionsStore {
  /**
   * Records (or refreshes) open sockets until the report's sent-at + TTL, dropping each user's
   * expired ones. A late report never shortens a newer one's expiry. A report processed after
   * a socket's close can list it again, for at most the TTL — the staleness every TTL allows.
   */
  open(connections: Connection[], report: { ttlMs: number; sentAtMs: number }): Promise<void>;
  /** Forgets closed sockets. */
  close(connections: Connection[]): Promise<void>;
  /** Whether the user has a socket whose expiry is not past. */
  isOnline(userId: string): Promise<boolean>;
}

export function createUserConnectionsStore(hot: HotState): UserConnectionsStore {
  return hot.kind === 'redis' ? createRedisUserConnections(hot.redis, hot.keys) : createMemoryUserConnections(hot.memory);
}

/** The connections grouped by user, each user's socket ids in report order. */
export function byUser(connections: Connection[]): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const { connectionId, userId } of connections) {
    const ids = grouped.get(userId);
    if (ids) ids.push(connectionId);
    else grouped.set(userId, [connectionId]);
  }
  return grouped;
}
