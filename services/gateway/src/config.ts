import { commonEnv, parseEnv, port, positiveInt, z } from '@lomi/service-runtime';

export const gatewayEnv = z
  .object({
    ...commonEnv,
    /** Address and port of the WebSocket and HTTP listener. Port 0 picks a free one (tests). */
    HOST: z.string().default('0.0.0.0'),
    PORT: port.default(8080),
    /** Port of the operations listener (/metrics, /healthz, /readyz), kept off the public port. */
    METRICS_PORT: port.default(9463),
    /** HS256 shared secret for user JWTs (at least 32 characters). One of this or JWT_PUBLIC_KEY. */
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** RS256 public key (PEM, SPKI) for user JWTs. */
    JWT_PUBLIC_KEY: z.string().includes('BEGIN PUBLIC KEY', { message: 'must be a PEM public key' }).optional(),
    /** Required `aud` claim, when set. */
    JWT_AUDIENCE: z.string().optional(),
    /** Required `iss` claim, when set. */
    JWT_ISSUER: z.string().optional(),
    /** Longest a user JWT may live (exp − iat, or exp − now if later or without iat); tokens without exp are refused. */
    MAX_TOKEN_LIFETIME_S: positiveInt.default(24 * 3600),
    /** How long before a connection's token expires it is sent token_expiring (halfway through what is left if it has less than twice this). */
    TOKEN_EXPIRING_NOTICE_S: positiveInt.default(60),
    /** Bearer token of the app back end for the service API (not a user JWT). */
    SERVICE_TOKEN: z.string().min(24, 'must be at least 24 characters'),
    /** Largest client frame accepted, bytes: a larger one is answered with TOO_LARGE and ignored. */
    MAX_FRAME_BYTES: positiveInt.default(16 * 1024),
    /**
     * Largest WebSocket message the socket reads at all (uWS maxPayloadLength), above
     * MAX_FRAME_BYTES so that an oversized frame can be answered; past it uWS drops the socket
     * (the client sees 1006).
     */
    MAX_SOCKET_FRAME_BYTES: positiveInt.default(1024 * 1024),
    /** Seconds without any frame (pings included) before a socket is closed; uWS pings at half. */
    IDLE_TIMEOUT_S: z.coerce.number().int().min(8).max(960).default(60),
    /** Bytes queued to one socket before the next sweep closes it with 4001 "slow consumer". */
    SLOW_CONSUMER_BYTES: positiveInt.default(512 * 1024),
    /**
     * Bytes queued to all sockets together: past it the next sweep closes the sockets with the
     * largest queues (4001) until the total is back under it. Size it to the pod's memory limit.
     */
    GATEWAY_BUFFER_BUDGET_BYTES: positiveInt.default(256 * 1024 * 1024),
    /** Hard limit of bytes queued to one socket: past it uWS drops the socket at once. */
    MAX_BACKPRESSURE_BYTES: positiveInt.default(2 * 1024 * 1024),
    /** A busy room's messages wait up to this long to share one frame per socket (0 = never). */
    BATCH_WINDOW_MS: z.coerce.number().int().min(0).max(200).default(50),
    /**
     * Frames per second a busy room's fan-out may cost this gateway: its window is the time its
     * local sockets take at this rate (500 sockets: 40 ms), up to BATCH_WINDOW_MS.
     */
    BATCH_FRAMES_PER_S: positiveInt.default(12_500),
    /**
     * Sockets a room's fan-out writes to in one event-loop turn before it lets acks, joins and
     * the next messages through (each socket written is a 5–10 µs syscall).
     */
    FANOUT_TURN_SOCKETS: positiveInt.default(128),
    /** And bytes it writes in one turn (at least one shard's sockets); docs/decisions/0022 says why both. */
    FANOUT_TURN_BYTES: positiveInt.default(256 * 1024),
    /** Rooms one connection may have joined at once. */
    MAX_ROOMS_PER_CONNECTION: positiveInt.default(50),
    // The limits below are per gateway process (an upgrade is decided synchronously, with no
    // shared store): with N gateways a user or address may hold up to N times as many.
    /** Rooms one user may have joined at once across their connections to this gateway. */
    MAX_ROOMS_PER_USER: positiveInt.default(100),
    /** Open WebSockets of one user on this gateway (several devices, and half-dead sockets that linger until their idle timeout). */
    MAX_CONNECTIONS_PER_USER: positiveInt.default(20),
    /** Open WebSockets from one client address on this gateway: generous, a mobile carrier puts thousands of users behind one. */
    MAX_CONNECTIONS_PER_IP: positiveInt.default(5000),
    /** WebSocket handshakes per second from one client address on this gateway (token bucket, bursts of one second's worth). */
    MAX_HANDSHAKES_PER_S_PER_IP: positiveInt.default(500),
    /**
     * Request header naming the client's address, set by a proxy in front (e.g. x-forwarded-for;
     * its last entry is used). Unset: the socket's peer address, which behind a proxy is the proxy's.
     */
    TRUSTED_PROXY_HEADER: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, 'must be a header name')
      .transform((h) => h.toLowerCase())
      .optional(),
    /**
     * Web origins (scheme://host[:port], comma-separated, or "*") allowed to call the HTTP API from
     * a browser (CORS) and to open a WebSocket (the upgrade's Origin header; 403 otherwise).
     * Unset: no CORS headers, and the upgrade does not look at Origin. Requests without an Origin
     * (native apps, servers) are never refused for it.
     */
    CORS_ORIGINS: z
      .string()
      .optional()
      .transform((v) =>
        v
          ? v
              .split(',')
              .map((o) => o.trim())
              .filter(Boolean)
          : undefined,
      )
      .pipe(z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'each must be "*" or an origin like https://app.example.com (no path)')).optional()),
    /** How often the platform-banned users are loaded again from the moderation workers, repairing a ban event this gateway missed. */
    BANS_RESYNC_MS: positiveInt.default(60_000),
    /** How long an out-of-order room message waits for the missing seq before it is fetched. */
    GAP_WAIT_MS: positiveInt.default(50),
    /**
     * On SIGTERM, how long the gateway keeps serving its sockets, with /readyz at 503 and new
     * upgrades refused, before it closes any: time for load balancers to stop sending it clients.
     */
    DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(3000),
    /**
     * Then its sockets are closed with 4000 ("reconnect and recover") at random moments over this
     * window, so that their clients come back to the other gateways spread out, not all at once.
     * DRAIN_DELAY_MS + DRAIN_WINDOW_MS + a few seconds must fit Kubernetes' grace period.
     */
    DRAIN_WINDOW_MS: z.coerce.number().int().min(0).default(8000),
    /** How often the gateway tells the presence workers who is still connected and in which live rooms. */
    PRESENCE_HEARTBEAT_MS: positiveInt.default(10_000),
    /** How long presence reported by this gateway lasts without a heartbeat: a gateway killed with -9 stops counting after it. */
    PRESENCE_TTL_MS: positiveInt.default(30_000),
    /**
     * Development only (refused with LOMI_ENV=production): POST /api/v1/dev/token mints a user
     * token for any user id, and /api/v1/dev/live and /api/v1/dev/conversations create the demo's
     * rooms (dev-api.ts). Needs JWT_SECRET. `pnpm start` turns it on.
     */
    DEV_TOKENS: z.stringbool().default(false),
    /** Development only (refused with LOMI_ENV=production): serve the built web client (apps/web/dist) from this directory at /. */
    WEB_CLIENT_DIR: z.string().min(1).optional(),
  })
  .refine((c) => c.PRESENCE_TTL_MS >= 2 * c.PRESENCE_HEARTBEAT_MS, {
    message: 'must be at least twice PRESENCE_HEARTBEAT_MS, so one late heartbeat does not drop anyone',
    path: ['PRESENCE_TTL_MS'],
  })
  .refine((c) => c.MAX_SOCKET_FRAME_BYTES > c.MAX_FRAME_BYTES, {
    message: 'must be larger than MAX_FRAME_BYTES, so that an oversized frame is answered with TOO_LARGE',
    path: ['MAX_SOCKET_FRAME_BYTES'],
  })
  .refine((c) => !c.DEV_TOKENS || Boolean(c.JWT_SECRET), {
    message: 'needs JWT_SECRET: development tokens are signed with it',
    path: ['DEV_TOKENS'],
  })
  .refine((c) => Boolean(c.JWT_SECRET) !== Boolean(c.JWT_PUBLIC_KEY), {
    message: 'set exactly one of JWT_SECRET (HS256) or JWT_PUBLIC_KEY (RS256)',
    path: ['JWT_SECRET'],
  });

export type GatewayConfig = z.infer<typeof gatewayEnv>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return parseEnv(gatewayEnv, env);
}
