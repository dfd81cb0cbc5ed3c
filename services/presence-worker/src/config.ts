import { commonEnv, databaseEnv, parseEnv, port, positiveInt, redisEnv, z } from '@lomi/service-runtime';

const nonNegativeInt = z.coerce.number().int().min(0);

export const presenceWorkerEnv = z
  .object({
    ...commonEnv,
    ...databaseEnv,
    ...redisEnv,
    /** Port of the worker's own /metrics, /healthz and /readyz listener (gateway 9463, message worker 9464). */
    METRICS_PORT: port.default(9465),
    /** Apply pending database migrations at start (safe with several workers starting at once). */
    RUN_MIGRATIONS: z.stringbool().default(true),
    /** How often rooms are swept: expired viewers and typists removed, pending pushes and digests sent. */
    PRESENCE_SWEEP_MS: positiveInt.default(500),
    /** Shortest time between two viewer-count pushes to one room. */
    VIEWER_PUSH_INTERVAL_MS: positiveInt.default(1000),
    /**
     * Deliveries per second one room's viewer-count pushes may cost. Each push goes to every
     * viewer: a room of more viewers than this gets its count less often than every
     * VIEWER_PUSH_INTERVAL_MS (5,000 viewers: every 5 s; docs/decisions/0013).
     */
    VIEWER_PUSH_DELIVERIES_PER_S: positiveInt.default(1000),
    /** Longest time between two pushes of a changed count, however big the room. */
    VIEWER_PUSH_INTERVAL_MAX_MS: positiveInt.default(10_000),
    /** Announce joins and leaves as system messages in live rooms at all. */
    JOIN_LEAVE_MESSAGES: z.stringbool().default(true),
    /** Above this many viewers (before or after a change), joins and leaves are announced in one digest message per interval. */
    JOIN_AGGREGATE_ABOVE: nonNegativeInt.default(50),
    /**
     * Single join/leave messages one room may get per JOIN_AGGREGATE_INTERVAL_MS, however small:
     * past it the interval's joins and leaves go into its digest, so a burst (a gateway draining,
     * its viewers coming back) writes a bounded number of messages.
     */
    JOIN_SINGLE_MESSAGES_PER_INTERVAL: nonNegativeInt.default(10),
    /** Above this many viewers (before or after a change), joins and leaves are not announced at all (the viewer count still updates). */
    JOIN_MESSAGES_MAX_ROOM: nonNegativeInt.default(1000),
    /** How often a busy room gets its "alice and 37 others joined" digest. */
    JOIN_AGGREGATE_INTERVAL_MS: positiveInt.default(5000),
    /** A "typing" without a newer one ends by itself ("stopped" is pushed) after this long. */
    TYPING_TIMEOUT_MS: positiveInt.default(5000),
    /** Shortest time between two "typing" pushes of one user in one room. */
    TYPING_PUSH_INTERVAL_MS: positiveInt.default(1000),
  })
  .refine((c) => c.JOIN_MESSAGES_MAX_ROOM >= c.JOIN_AGGREGATE_ABOVE, {
    message: 'must be at least JOIN_AGGREGATE_ABOVE',
    path: ['JOIN_MESSAGES_MAX_ROOM'],
  })
  .refine((c) => c.VIEWER_PUSH_INTERVAL_MAX_MS >= c.VIEWER_PUSH_INTERVAL_MS, {
    message: 'must be at least VIEWER_PUSH_INTERVAL_MS',
    path: ['VIEWER_PUSH_INTERVAL_MAX_MS'],
  });

export type PresenceWorkerConfig = z.infer<typeof presenceWorkerEnv>;

/** Reads and validates the worker's configuration; throws ConfigError listing every bad variable. */
export function loadPresenceWorkerConfig(env: NodeJS.ProcessEnv = process.env): PresenceWorkerConfig {
  return parseEnv(presenceWorkerEnv, env);
}
