import type { Keys } from '@lomi/hot-state';
import type { Redis, Result } from 'ioredis';
import type { WebhookJob, WebhookQueue } from './webhook-queue';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiClaimWebhooks(dueKey: string, jobsKey: string, now: number, leaseUntil: number, max: number): Result<string[], Context>;
  }
}

// KEYS: due, jobs. ARGV: now, lease end, most jobs. Leases and returns the due jobs; a due id
// whose job is gone (finished by a worker whose lease had run out) is dropped.
const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local jobs = {}
for _, id in ipairs(ids) do
  local job = redis.call('HGET', KEYS[2], id)
  if job then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(jobs, job)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return jobs
`;

/** A sorted set of job id → due time (keys.webhookDue) beside a hash of jobs as JSON (keys.webhookJobs). */
export function createRedisWebhookQueue(redis: Redis, keys: Keys): WebhookQueue {
  redis.defineCommand('lomiClaimWebhooks', { numberOfKeys: 2, lua: CLAIM });
  return {
    async schedule(job, dueAtMs) {
      await redis.multi().hset(keys.webhookJobs, job.id, JSON.stringify(job)).zadd(keys.webhookDue, dueAtMs, job.id).exec();
    },
    async claim(nowMs, leaseUntilMs, max) {
      const jobs = await redis.lomiClaimWebhooks(keys.webhookDue, keys.webhookJobs, nowMs, leaseUntilMs, max);
      return jobs.map((job) => JSON.parse(job) as WebhookJob);
    },
    async remove(id) {
      await redis.multi().zrem(keys.webhookDue, id).hdel(keys.webhookJobs, id).exec();
    },
  };
}
