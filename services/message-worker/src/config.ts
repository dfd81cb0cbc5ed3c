import { readFileSync } from 'node:fs';
import { commonEnv, databaseEnv, parseEnv, port, positiveInt, redisEnv, z } from '@lomi/service-runtime';
import { compileWordList, WordListError } from '@lomi/word-filter';

const coins = 'must be a whole number of coins above 0';
const giftCatalog = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.issues.push({ code: 'custom', message: 'must be JSON', input: text });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().min(1).max(64), z.number().int(coins).positive(coins), 'must be a JSON object of gift id → coins'));

/** Most terms in the deployment's block list. */
export const DEPLOYMENT_TERMS_MAX = 100_000;

/** The deployment's block list: a UTF-8 file, one term a line; blank lines and lines starting with '#' are skipped. */
const wordListFile = z
  .string()
  .optional()
  .transform((path, ctx) => {
    if (!path) return [];
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      ctx.issues.push({ code: 'custom', message: `cannot read ${path}: ${(err as Error).message}`, input: path });
      return z.NEVER;
    }
    const terms = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    try {
      compileWordList(terms, { action: 'refuse', maxTerms: DEPLOYMENT_TERMS_MAX });
    } catch (err) {
      if (!(err instanceof WordListError)) throw err;
      ctx.issues.push({ code: 'custom', message: `${path}: ${err.message}`, input: path });
      return z.NEVER;
    }
    return terms;
  });

const optionalUrl = z
  .string()
  .optional()
  .transform((v) => v || undefined)
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional());

export const messageWorkerEnv = z
  .object({
    ...commonEnv,
    ...databaseEnv,
    ...redisEnv,
    /** Longest text message, in characters (Unicode code points) after trimming. */
    MAX_MESSAGE_LENGTH: positiveInt.default(500),
    /** Messages kept per room in the Redis history stream (approximate cap); older ones come from Postgres. */
    HISTORY_MAX_LEN: positiveInt.default(10_000),
    /**
     * How long a room's Redis history stream outlives the room's last message. Redis holds up to
     * HISTORY_MAX_LEN messages of every room that ever spoke; without an end, ended streams and
     * old conversations would fill it. Recovery and history of an expired room come from Postgres.
     */
    HISTORY_TTL_SECONDS: positiveInt.default(3 * 86_400),
    /**
     * The same for the room's seq and epoch (a few bytes each). Kept longer, as Centrifugo keeps
     * its stream meta: while the epoch lives, a client back from a long absence still recovers
     * (from Postgres) instead of being told to reload; when it goes, the next join or send
     * starts a new epoch after the highest stored seq.
     */
    HISTORY_META_TTL_SECONDS: positiveInt.default(30 * 86_400),
    /**
     * Seqs reserved in Postgres per block for Redis to hand out. A Redis that loses its state
     * makes the room go on above the reserved ceiling, so a reset leaves a hole of up to this
     * many seqs; each block costs one Postgres update, off the send path.
     */
    SEQ_BLOCK_SIZE: positiveInt.min(2).default(1000),
    /**
     * When a send is acked: `redis` once Redis stored it (a Redis crash may lose the last acked
     * messages the persister had not copied yet), `replica` once a Redis replica has it too (WAIT;
     * a failover to that replica loses nothing acked), `postgres` only once its row is committed
     * in Postgres (nothing acked is lost with Redis; each send waits for a commit).
     */
    ACK_DURABILITY: z.enum(['redis', 'replica', 'postgres']).default('redis'),
    /** ACK_DURABILITY=replica: how long a send waits for a replica before it is answered UNAVAILABLE (retry). */
    ACK_REPLICA_TIMEOUT_MS: positiveInt.default(1000),
    /** Most messages returned by one join recovery or one gateway range request. */
    RECOVERY_MAX: positiveInt.default(1000),
    /** Outbox entries the persister writes to Postgres in one INSERT (14 parameters a row; Postgres takes 65535). */
    PERSIST_BATCH: positiveInt.max(4000).default(500),
    /** On stop, how long the worker keeps persisting the outboxes before it exits (keep it under the pod's grace period). */
    PERSIST_FLUSH_MS: positiveInt.default(10_000),
    /** Gifts that can be sent: JSON object of gift id → value of one unit in coins. */
    GIFT_CATALOG: giftCatalog.default({ rose: 1, heart: 5, rocket: 500 }),
    /** Port of the worker's own /metrics, /healthz and /readyz listener (gateway 9463, presence worker 9465, moderation worker 9466). */
    METRICS_PORT: port.default(9464),
    /** Apply pending database migrations at start (safe with several workers starting at once). */
    RUN_MIGRATIONS: z.stringbool().default(true),
    /**
     * The deployment's block list, applied to every message of every private room and of every
     * live room whose word filter is on (the default): a file of one term a line. Unset: none.
     * Read once at start; a term that cannot be compiled stops the worker, naming it.
     */
    WORD_FILTER_FILE: wordListFile,
    /** What a match of the deployment's list does: `refuse` the message (BLOCKED_TERM) or `mask` the match. */
    WORD_FILTER_ACTION: z.enum(['refuse', 'mask']).default('refuse'),
    /** Messages per second one viewer may send in one live room, sustained (the broadcaster is exempt). */
    LIVE_RATE_PER_S: z.coerce.number().positive().default(5),
    /** Messages one viewer may send in a live room at once before the sustained rate applies. */
    LIVE_RATE_BURST: positiveInt.default(5),
    /** Where to POST a summary of a private message whose recipient has no live connection; unset: no webhook. */
    OFFLINE_WEBHOOK_URL: optionalUrl,
    /** Shared secret (its UTF-8 bytes are the HMAC-SHA256 key) of the webhook's webhook-signature; required with the URL. */
    OFFLINE_WEBHOOK_SECRET: z.string().optional(),
    /** Attempts per webhook call (the first included) before it is given up. */
    OFFLINE_WEBHOOK_MAX_ATTEMPTS: positiveInt.default(8),
    /** Wait before the first retry of a failed webhook call; doubles with each further attempt. */
    OFFLINE_WEBHOOK_BACKOFF_MS: positiveInt.default(1000),
    /** How long one webhook call may take before it counts as failed. */
    OFFLINE_WEBHOOK_TIMEOUT_MS: positiveInt.default(5000),
  })
  .refine((c) => c.HISTORY_META_TTL_SECONDS >= c.HISTORY_TTL_SECONDS, {
    // An epoch gone before its stream would tell clients to reload a history that is still there.
    message: 'must be at least HISTORY_TTL_SECONDS',
    path: ['HISTORY_META_TTL_SECONDS'],
  })
  .refine((c) => !c.OFFLINE_WEBHOOK_URL || Boolean(c.OFFLINE_WEBHOOK_SECRET), {
    message: 'must be set when OFFLINE_WEBHOOK_URL is',
    path: ['OFFLINE_WEBHOOK_SECRET'],
  });

export type MessageWorkerConfig = z.infer<typeof messageWorkerEnv>;

/** Reads and validates the worker's configuration; throws ConfigError listing every bad variable. */
export function loadMessageWorkerConfig(env: NodeJS.ProcessEnv = process.env): MessageWorkerConfig {
  return parseEnv(messageWorkerEnv, env);
}
