import { commonEnv, databaseEnv, parseEnv, port, positiveInt, redisEnv, z } from '@lomi/service-runtime';

export const moderationWorkerEnv = z
  .object({
    ...commonEnv,
    ...databaseEnv,
    ...redisEnv,
    /** Port of the worker's own /metrics, /healthz and /readyz listener (gateway 9463, message worker 9464, presence worker 9465). */
    METRICS_PORT: port.default(9466),
    /** Apply pending database migrations at start (safe with several workers starting at once). */
    RUN_MIGRATIONS: z.stringbool().default(true),
    /** How long a pin lasts when the broadcaster does not say (Twitch's default: 20 minutes). */
    PIN_DEFAULT_DURATION_S: positiveInt.default(1200),
    /** Shortest pin a broadcaster may ask for. */
    PIN_MIN_DURATION_S: positiveInt.default(30),
    /** Longest pin a broadcaster may ask for. */
    PIN_MAX_DURATION_S: positiveInt.default(1800),
    /** Longest pinned new text, in characters (Unicode code points) after trimming. */
    PIN_MAX_LENGTH: positiveInt.default(500),
    /** How often expired pins are removed and their unpin pushed; an expired pin is never shown in between. */
    PIN_SWEEP_MS: positiveInt.default(1000),
    /** Longest reason of a message report or a platform ban, in characters (Unicode code points) after trimming. */
    REASON_MAX_LENGTH: positiveInt.default(500),
    /** Most terms in one live room's own block list (SetRoomSettings). */
    ROOM_WORD_LIST_MAX: positiveInt.max(5000).default(1000),
  })
  .refine((c) => c.PIN_MIN_DURATION_S <= c.PIN_DEFAULT_DURATION_S && c.PIN_DEFAULT_DURATION_S <= c.PIN_MAX_DURATION_S, {
    message: 'must lie between PIN_MIN_DURATION_S and PIN_MAX_DURATION_S',
    path: ['PIN_DEFAULT_DURATION_S'],
  });

export type ModerationWorkerConfig = z.infer<typeof moderationWorkerEnv>;

/** Reads and validates the worker's configuration; throws ConfigError listing every bad variable. */
export function loadModerationWorkerConfig(env: NodeJS.ProcessEnv = process.env): ModerationWorkerConfig {
  return parseEnv(moderationWorkerEnv, env);
}
