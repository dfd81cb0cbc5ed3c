import Redis from 'ioredis';
import type { Logger } from './logger';
import { UnreachableError } from './nats';

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
    throw new UnreachableError(`cannot reach Redis at ${url}: ${(lastError ?? (err as Error)).message}`);
  }
  return redis;
}
