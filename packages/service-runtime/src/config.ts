// Environment parsing shared by every service: one zod schema per service, validated at start,
// with one line per wrong value so an operator can fix them all in one go.
import { z } from 'zod';
import { productionProblems } from './production';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  const lines = result.success
    ? []
    : result.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const value = env[name];
        return `  ${name}=${value === undefined ? '(unset)' : JSON.stringify(value)}: ${issue.message}`;
      });
  // Secrets are not echoed: a real one may be among them.
  if (env.LOMI_ENV === 'production') {
    for (const { name, message } of productionProblems(Object.keys(schema.shape), env)) lines.push(`  ${name}: ${message}`);
  }
  if (result.success && lines.length === 0) return result.data;
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.join(' or ')}//`,
  );

export const port = z.coerce.number().int().min(0).max(65535);
export const positiveInt = z.coerce.number().int().positive();

/** Variables every service reads. */
export const commonEnv = {
  /** NATS server(s), comma separated; `memory:` puts every service of one process on an in-process bus instead. */
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /** How long a request over the bus waits for its answer (a gateway's command: then UNAVAILABLE). */
  REQUEST_TIMEOUT_MS: positiveInt.default(5000),
  /** Root of every NATS subject and Redis key, and the Postgres schema, so several deployments can share servers. */
  LOMI_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/, 'lowercase letters, digits, _ and - only')
    .default('lomi'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `production` refuses development defaults and placeholder secrets (production.ts). */
  LOMI_ENV: z.enum(['development', 'production']).default('development'),
  /** The running build's version, for lomi_build_info (the image sets it). */
  LOMI_VERSION: z.string().min(1).default('dev'),
  /** The running build's git commit, for lomi_build_info (the image sets it when built from a clone). */
  LOMI_COMMIT: z.string().optional(),
};

/** Variables of the services that use Redis (the workers; gateways do not). */
export const redisEnv = {
  /** Redis holding hot history, sequence numbers and counters; `memory:` keeps them in the process instead (the embedded mode). */
  REDIS_URL: url(['redis:', 'rediss:', 'memory:']).default('redis://127.0.0.1:6379'),
  /**
   * Redis Cluster seed nodes, `host:port` comma separated; when set the services use the cluster
   * (credentials and TLS from REDIS_URL) instead of the one server of REDIS_URL.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, 'must be host:port, comma separated')
    .optional(),
};

export const databaseEnv = {
  /** Postgres, the durable record. */
  /** Postgres; `pglite:<folder>` (or `pglite:memory`) keeps it inside the process instead (the embedded mode). */
  DATABASE_URL: url(['postgres:', 'postgresql:', 'pglite:']).default('postgres://postgres@127.0.0.1:5432/test'),
};

export { z };
