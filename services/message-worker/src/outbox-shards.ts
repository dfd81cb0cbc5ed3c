// Which outbox work lists (shards) this message worker drains. Every live worker keeps an entry
// in the outbox's list of persist workers, renewed each heartbeat with when it lapses; the live workers, in id
// order, take the shards in turn (shard s goes to the worker of rank s mod count). A worker that
// joins or leaves moves shards at the others' next heartbeat; one that dies moves them once its
// entry lapses. Meanwhile a shard may be drained by two workers (harmless) or by none for at most
// ALIVE_MS + HEARTBEAT_MS. Heartbeats run on their own timer: a long drain pass neither delays a
// takeover nor makes this worker look dead to the others.
import { OUTBOX_SHARDS } from '@lomi/hot-state';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { WorkerContext } from './context';
import type { Outbox } from './room-log';

const HEARTBEAT_MS = 1000;
const ALIVE_MS = 3000;

export interface ShardOwnership {
  /** Whether this worker drains `shard` now. */
  owns(shard: number): boolean;
  /** Stops the heartbeats and gives the shards up at once, for the others' next heartbeat. */
  leave(): Promise<void>;
}

/** Joins the persist workers (resolving after the first heartbeat) and keeps heartbeating until leave(). */
export async function joinShardOwnership(ctx: WorkerContext, outbox: Outbox): Promise<ShardOwnership> {
  const { metrics, log } = ctx;
  const id = randomUUID();
  let owned = new Set<number>();
  let left = false;

  async function heartbeat(): Promise<void> {
    const now = Date.now();
    // By id, not by when each lapses (which every heartbeat moves): the same order for all.
    const live = (await outbox.heartbeat(id, now + ALIVE_MS, now)).sort();
    if (left) return;
    const rank = Math.max(0, live.indexOf(id));
    owned = new Set(Array.from({ length: OUTBOX_SHARDS }, (_, s) => s).filter((s) => s % live.length === rank));
    metrics.outboxShards.set(owned.size);
  }
  const beat = () => heartbeat().catch((err: unknown) => log.warn({ err }, 'outbox shard heartbeat failed; keeping the shards held so far'));

  await beat();
  const stop = new AbortController();
  const running = (async () => {
    while (!stop.signal.aborted) {
      await delay(HEARTBEAT_MS, undefined, { signal: stop.signal }).catch(() => undefined);
      if (!stop.signal.aborted) await beat();
    }
  })();

  return {
    owns: (shard) => owned.has(shard),
    async leave() {
      left = true;
      stop.abort();
      await running;
      owned = new Set();
      metrics.outboxShards.set(0);
      await outbox.leave(id);
    },
  };
}
