// Which outbox work lists (shards) this message worker drains. Every live worker keeps an entry
// in a Redis sorted set, renewed each heartbeat with when it lapses; the live workers, in id
// order, take the shards in turn (shard s goes to the worker of rank s mod count). A worker that
// joins or leaves moves shards at the others' next heartbeat; one that dies moves them once its
// entry lapses. Meanwhile a shard may be drained by two workers (harmless) or by none for at most
// ALIVE_MS + HEARTBEAT_MS.
import { OUTBOX_SHARDS } from '@lomi/common';
import { randomUUID } from 'node:crypto';
import type { WorkerContext } from './context';

const HEARTBEAT_MS = 1000;
const ALIVE_MS = 3000;

export function createShardOwnership(ctx: WorkerContext) {
  const { redis, keys, metrics } = ctx;
  const id = randomUUID();
  let owned: number[] = [];
  let nextHeartbeat = 0;

  return {
    /** The shards this worker drains now (renewing its entry when a heartbeat is due). */
    async shards(): Promise<number[]> {
      const now = Date.now();
      if (now < nextHeartbeat) return owned;
      const replies = await redis
        .multi()
        .zadd(keys.persistWorkers, now + ALIVE_MS, id)
        .zremrangebyscore(keys.persistWorkers, '-inf', now)
        .zrange(keys.persistWorkers, 0, -1)
        .exec();
      // By id, not by score (when each lapses, which every heartbeat moves): the same order for all.
      const live = ((replies?.[2]?.[1] as string[] | undefined) ?? [id]).sort();
      const rank = Math.max(0, live.indexOf(id));
      owned = Array.from({ length: OUTBOX_SHARDS }, (_, s) => s).filter((s) => s % live.length === rank);
      nextHeartbeat = now + HEARTBEAT_MS;
      metrics.outboxShards.set(owned.length);
      return owned;
    },

    /** Gives the shards up at once, for the others' next heartbeat. */
    async leave(): Promise<void> {
      owned = [];
      metrics.outboxShards.set(0);
      await redis.zrem(keys.persistWorkers, id);
    },
  };
}
