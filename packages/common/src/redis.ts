import Redis, { type ChainableCommander } from 'ioredis';
import type { Logger } from './logger';
import { endOfTurn } from './coalesce';
import { UnreachableError } from './failures';

/**
 * A Redis client that fails commands quickly while Redis is down (so a sender gets UNAVAILABLE
 * and retries with the same client_msg_id) and reconnects with capped backoff.
 */
export async function connectRedis(url: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 3000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  });
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
    throw new UnreachableError(`cannot reach Redis at ${url}: ${(lastError ?? (err as Error)).message}`, { cause: lastError ?? err });
  }
  return redis;
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
  return (arg) =>
    new Promise<R>((resolve, reject) => {
      if (calls.length === 0) void endOfTurn().then(send);
      calls.push({ arg, resolve, reject });
    });
}

/** Deletes every key matching `pattern`, scanning so Redis is never blocked; returns how many. */
export async function deleteMatching(redis: Redis, pattern: string): Promise<number> {
  let deleted = 0;
  for await (const keys of redis.scanStream({ match: pattern, count: 1000 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  }
  return deleted;
}
