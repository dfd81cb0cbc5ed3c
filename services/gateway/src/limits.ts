// Abuse limits of one gateway: connections per user and per client address, handshakes per
// second per address, rooms per connection and per user. Kept in this process's memory: a
// WebSocket upgrade is decided before uWS's upgrade callback returns (chat-upgrade.ts says why), with
// no time to ask a shared store, so each gateway counts only its own sockets.
import type { Counter } from 'prom-client';
import type { GatewayConfig } from './config';
import type { Connection } from './connection';

export type LimitName = 'handshakes_per_ip' | 'connections_per_ip' | 'connections_per_user' | 'rooms_per_connection' | 'rooms_per_user';

/** Why a handshake or a join was refused, in words for the client. */
export interface Refusal {
  limit: LimitName;
  message: string;
  /** Seconds until trying again can succeed, when waiting alone is enough. */
  retryAfterS?: number;
}

export interface LimitSettings {
  connectionsPerUser: number;
  connectionsPerIp: number;
  handshakesPerSPerIp: number;
  roomsPerConnection: number;
  roomsPerUser: number;
}

/** The limits the gateway config sets. */
export function limitSettings(config: GatewayConfig): LimitSettings {
  return {
    connectionsPerUser: config.MAX_CONNECTIONS_PER_USER,
    connectionsPerIp: config.MAX_CONNECTIONS_PER_IP,
    handshakesPerSPerIp: config.MAX_HANDSHAKES_PER_S_PER_IP,
    roomsPerConnection: config.MAX_ROOMS_PER_CONNECTION,
    roomsPerUser: config.MAX_ROOMS_PER_USER,
  };
}

/** Buckets that have refilled since are dropped this often, so the map holds only recent addresses. */
const PRUNE_INTERVAL_MS = 10_000;

/** One token bucket per key, holding one second's worth of tokens, refilled continuously. */
class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private prunedAt = 0;

  constructor(private readonly perSecond: number) {}

  /** Takes a token: 0 if there was one, else milliseconds until there will be. */
  take(key: string, now: number): number {
    if (now - this.prunedAt >= PRUNE_INTERVAL_MS) this.prune(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.perSecond, at: now };
    bucket.tokens = this.level(bucket, now);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return ((1 - bucket.tokens) * 1000) / this.perSecond;
    bucket.tokens -= 1;
    return 0;
  }

  private level(bucket: { tokens: number; at: number }, now: number): number {
    return Math.min(this.perSecond, bucket.tokens + ((now - bucket.at) * this.perSecond) / 1000);
  }

  private prune(now: number): void {
    this.prunedAt = now;
    for (const [key, bucket] of this.buckets) if (this.level(bucket, now) >= this.perSecond) this.buckets.delete(key);
  }
}

/**
 * The client's address: the last entry of the trusted proxy's header (the address the proxy
 * nearest to us saw; a client can write anything before it), else the socket's peer address.
 */
export function clientAddress(socketAddress: string, proxyHeader: string): string {
  const forwarded = proxyHeader
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean)
    .at(-1);
  return forwarded ?? socketAddress;
}

export class ConnectionLimits {
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly byIp = new Map<string, number>();
  private readonly handshakes: TokenBuckets;

  constructor(
    private readonly settings: LimitSettings,
    private readonly refusals: Counter<'limit'>,
  ) {
    this.handshakes = new TokenBuckets(settings.handshakesPerSPerIp);
  }

  /** Checked first on every upgrade, before the token: verifying one is the costly part. */
  handshake(ip: string): Refusal | undefined {
    const waitMs = this.handshakes.take(ip, performance.now());
    if (waitMs > 0) {
      const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
      return this.refuse('handshakes_per_ip', `too many connection attempts from this address (at most ${this.settings.handshakesPerSPerIp} a second)`, retryAfterS);
    }
    if ((this.byIp.get(ip) ?? 0) >= this.settings.connectionsPerIp) {
      return this.refuse('connections_per_ip', `too many connections from this address (at most ${this.settings.connectionsPerIp} per gateway)`);
    }
    return undefined;
  }

  /** Checked once the user is known. */
  admit(userId: string): Refusal | undefined {
    if ((this.byUser.get(userId)?.size ?? 0) < this.settings.connectionsPerUser) return undefined;
    return this.refuse('connections_per_user', `too many connections of this user (at most ${this.settings.connectionsPerUser} per gateway); close one first`);
  }

  /** Why `conn` may not join one more room, if it may not. */
  joinRefusal(conn: Connection): Refusal | undefined {
    if (conn.rooms.size + conn.joining.size >= this.settings.roomsPerConnection) {
      return this.refuse('rooms_per_connection', `at most ${this.settings.roomsPerConnection} rooms per connection; leave one first`);
    }
    let rooms = 0;
    for (const c of this.byUser.get(conn.userId) ?? []) rooms += c.rooms.size + c.joining.size;
    if (rooms >= this.settings.roomsPerUser) {
      return this.refuse('rooms_per_user', `at most ${this.settings.roomsPerUser} rooms per user across their connections; leave one first`);
    }
    return undefined;
  }

  opened(conn: Connection): void {
    const conns = this.byUser.get(conn.userId) ?? new Set();
    this.byUser.set(conn.userId, conns.add(conn));
    this.byIp.set(conn.ip, (this.byIp.get(conn.ip) ?? 0) + 1);
  }

  closed(conn: Connection): void {
    const conns = this.byUser.get(conn.userId);
    conns?.delete(conn);
    if (conns?.size === 0) this.byUser.delete(conn.userId);
    const left = (this.byIp.get(conn.ip) ?? 1) - 1;
    if (left > 0) this.byIp.set(conn.ip, left);
    else this.byIp.delete(conn.ip);
  }

  private refuse(limit: LimitName, message: string, retryAfterS?: number): Refusal {
    this.refusals.inc({ limit });
    return { limit, message, retryAfterS };
  }
}
