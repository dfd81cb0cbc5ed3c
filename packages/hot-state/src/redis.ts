import Redis, { Cluster, type ChainableCommander } from 'ioredis';
import { UnreachableError } from '@lomi/errors';
import { endOfTurn, type Logger } from '@lomi/service-runtime';

/**
 * A Redis client that fails commands quickly while Redis is down (so a sender gets UNAVAILABLE
 * and retries with the same client_msg_id) and reconnects with capped backoff.
 */
export async function connectRedis(url: string, log: Logger, clusterNodes?: string): Promise<Redis> {
  const options = {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 3000,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2000),
  };
  const redis = clusterNodes ? connectCluster(url, clusterNodes, options) : new Redis(url, options);
  const where = clusterNodes ? `the Redis Cluster at ${clusterNodes}` : `Redis at ${url}`;
  let wasReady = false;
  let lastError: Error | undefined;
  redis.on('ready', () => {
    if (wasReady) log.info('Redis reconnected');
    wasReady = true;
  });
  redis.on('error', (err) => {
    lastError = err;
    if (wasReady) log.warn({ err: err.message }, 'Redis connection problem');
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new UnreachableError(`cannot reach ${where}: ${(lastError ?? (err as Error)).message}`, { cause: lastError ?? err });
  }
  return redis;
}

/**
 * A Redis Cluster client typed as the one-server client: ioredis gives both the same commands and
 * scripts but declares them on two classes, and every store implementation is written once. It
 * pipelines on its own, per node (`enableAutoPipelining`), so pipelinedPerTurn leaves it alone.
 */
function connectCluster(url: string, nodes: string, options: { lazyConnect: boolean; maxRetriesPerRequest: number; connectTimeout: number }): Redis {
  const { username, password, protocol } = new URL(url);
  const cluster = new Cluster(
    nodes.split(',').map((node) => {
      const [host, port] = node.split(':');
      return { host: host!, port: Number(port) };
    }),
    {
      lazyConnect: options.lazyConnect,
      enableAutoPipelining: true,
      clusterRetryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
      redisOptions: {
        maxRetriesPerRequest: options.maxRetriesPerRequest,
        connectTimeout: options.connectTimeout,
        ...(username ? { username: decodeURIComponent(username) } : {}),
        ...(password ? { password: decodeURIComponent(password) } : {}),
        ...(protocol === 'rediss:' ? { tls: {} } : {}),
      },
    },
  );
  return cluster as unknown as Redis;
}

/** True for a client connectRedis made for a Redis Cluster. */
export function isCluster(redis: Redis): boolean {
  return (redis as unknown) instanceof Cluster;
}

/**
 * One command per call, with the calls of one event-loop turn sent as one Redis pipeline: one
 * write out and one read back (one wake-up of Redis and of this process) for all of them,
 * instead of a syscall each. Each call gets its own command's result or error. A turn with a
 * single call sends it as a plain command (`one`): an ioredis pipeline copies every command
 * and script onto itself, and at 500 msg/s, where most turns carry one send, that copy was the
 * largest thing a message worker's send left for the garbage collector to promote (a sampling
 * heap profile of the worker).
 */
export function pipelinedPerTurn<A, R>(
  redis: Redis,
  command: { one: (redis: Redis, arg: A) => Promise<R>; add: (pipeline: ChainableCommander, arg: A) => void },
): (arg: A) => Promise<R> {
  type Call = { arg: A; resolve: (result: R) => void; reject: (err: unknown) => void };
  let calls: Call[] = [];
  function send(): void {
    const batch = calls;
    calls = [];
    if (batch.length === 1) {
      const [call] = batch as [Call];
      command.one(redis, call.arg).then(call.resolve, call.reject);
      return;
    }
    const pipeline = redis.pipeline();
    for (const call of batch) command.add(pipeline, call.arg);
    pipeline.exec().then(
      (results) =>
        batch.forEach((call, i) => {
          const [err, result] = results?.[i] ?? [new Error('Redis pipeline returned no result'), undefined];
          if (err) call.reject(err);
          else call.resolve(result as R);
        }),
      (err: unknown) => batch.forEach((call) => call.reject(err)),
    );
  }
  // A cluster's pipeline may only hold keys of one node: its client batches per node itself.
  if (isCluster(redis)) return (arg) => command.one(redis, arg);
  return (arg) =>
    new Promise<R>((resolve, reject) => {
      if (calls.length === 0) void endOfTurn().then(send);
      calls.push({ arg, resolve, reject });
    });
}

/** Deletes every key matching `pattern`, scanning so Redis is never blocked; returns how many. */
export async function deleteMatching(redis: Redis, pattern: string): Promise<number> {
  // A cluster's keys are spread over its masters: each is scanned, and keys unlinked one by one
  // (one UNLINK may only name keys of one slot).
  const servers = isCluster(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
  let deleted = 0;
  for (const server of servers) {
    for await (const keys of server.scanStream({ match: pattern, count: 1000 }) as AsyncIterable<string[]>) {
      for (const key of isCluster(redis) ? keys.map((k) => [k]) : keys.length > 0 ? [keys] : []) deleted += await server.unlink(...key);
    }
  }
  return deleted;
}

/**
 * A pipeline whose commands may name keys of different Redis Cluster slots (several users'
 * keys, say): on one server a plain pipeline; on a cluster each command is sent on its own (the
 * client pipelines them per node) and exec() gives the same [error, result] replies in order.
 */
export function crossSlotPipeline(redis: Redis): ChainableCommander {
  if (!isCluster(redis)) return redis.pipeline();
  const calls: [string, unknown[]][] = [];
  const send = (name: string, args: unknown[]) => (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(...args);
  const recorder: ChainableCommander = new Proxy({} as ChainableCommander, {
    get(_target, name) {
      if (name === 'exec') {
        return () =>
          Promise.all(
            calls.map(([command, args]) =>
              send(command, args).then(
                (result) => [null, result],
                (err: unknown) => [err, undefined],
              ),
            ),
          );
      }
      if (name === 'length') return calls.length;
      return (...args: unknown[]) => {
        calls.push([String(name), args]);
        return recorder;
      };
    },
  });
  return recorder;
}
