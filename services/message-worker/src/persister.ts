// Moves messages from the rooms' Redis outboxes into Postgres. The outboxes are listed in
// OUTBOX_SHARDS work lists, which the live message workers divide between them (outbox-shards.ts),
// so each worker scans only its own and the cost grows with the messages, not with workers ×
// rooms. While the workers change, two may briefly drain the same room: harmless, because inserts
// skip rows already stored. An entry is deleted from the outbox only after its row committed, or
// after it was set aside as a dead letter (dead-letters.ts) because Postgres can never take it,
// so nothing is ever dropped.
import { setTimeout as delay } from 'node:timers/promises';
import { OUTBOX_SHARDS, outboxShardOf } from '@lomi/common';
import type { Result } from 'ioredis';
import type { WorkerContext } from './context';
import { createDeadLetters } from './dead-letters';
import { createShardOwnership } from './outbox-shards';
import type { StreamEntry } from './stream-entries';

const IDLE_POLL_MS = 50;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;
// Finds outboxes missing from the work list: a worker that died between the append script and
// its SADD leaves one behind.
const SWEEP_INTERVAL_MS = 30_000;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiOutboxLeft(outboxKey: string): Result<number, Context>;
  }
}

// The outbox's length, deleting it when empty: Redis keeps an empty stream for ever (unlike an
// empty hash or set), and every room that ever spoke would leave one. In one script, so an
// append landing meanwhile is never deleted with it.
const OUTBOX_LEFT = `
local left = redis.call('XLEN', KEYS[1])
if left == 0 then redis.call('DEL', KEYS[1]) end
return left
`;

export interface Persister {
  /** Finishes the outbox in hand, persists what is left (for up to PERSIST_FLUSH_MS) and stops. */
  stop(): Promise<void>;
}

export function startPersister(ctx: WorkerContext): Persister {
  const { redis, keys, log, metrics, config } = ctx;
  const deadLetters = createDeadLetters(ctx);
  const ownership = createShardOwnership(ctx);
  const allShards = Array.from({ length: OUTBOX_SHARDS }, (_, i) => i);
  const stopping = new AbortController();
  redis.defineCommand('lomiOutboxLeft', { numberOfKeys: 1, lua: OUTBOX_LEFT });

  /** Persists one batch of one outbox; returns whether the batch was full and what is left. */
  async function persistOutbox(outboxKey: string): Promise<{ full: boolean; left: number }> {
    const entries: StreamEntry[] = await redis.xrangeBuffer(outboxKey, '-', '+', 'COUNT', config.PERSIST_BATCH);
    if (entries.length > 0) {
      metrics.persisted.inc(await deadLetters.store(outboxKey, entries));
      await redis.xdel(outboxKey, ...entries.map(([id]) => id));
    }
    const left = await redis.lomiOutboxLeft(outboxKey);
    if (left === 0) {
      const list = keys.outboxRooms(outboxShardOf(outboxKey));
      await redis.srem(list, outboxKey);
      // An append may have landed between XLEN and SREM, its SADD lost to our SREM: re-add.
      if ((await redis.xlen(outboxKey)) > 0) await redis.sadd(list, outboxKey);
    }
    return { full: entries.length === config.PERSIST_BATCH, left };
  }

  /** One round over every outbox listed in `shards`; one failing room does not hold up the others. */
  async function persistAll(until: AbortSignal, shards: number[]): Promise<{ full: boolean; backlog: number; failure?: unknown }> {
    let full = false;
    let backlog = 0;
    let failure: unknown;
    for (const shard of shards) {
      for (const outboxKey of await redis.smembers(keys.outboxRooms(shard))) {
        if (until.aborted) break;
        try {
          const result = await persistOutbox(outboxKey);
          full ||= result.full;
          backlog += result.left;
        } catch (err) {
          failure ??= err;
        }
      }
    }
    if (failure === undefined) metrics.outboxBacklog.set(backlog);
    return { full, backlog, failure };
  }

  /**
   * At stop, after the worker's last append: hands its shards to the others, then persists what
   * is left in every outbox until they are empty or PERSIST_FLUSH_MS ran out, so that a
   * scale-down or the last worker leaving does not leave acked messages out of Postgres for long.
   * What is left waits for another worker.
   */
  async function flush(): Promise<void> {
    await ownership.leave().catch((err: unknown) => log.warn({ err }, 'could not hand over the outbox shards; they move once this worker expires'));
    const deadline = AbortSignal.timeout(config.PERSIST_FLUSH_MS);
    let backoff = BACKOFF_MIN_MS;
    while (!deadline.aborted) {
      try {
        const { full, backlog, failure } = await persistAll(deadline, allShards);
        if (failure !== undefined) throw failure;
        if (!full && backlog === 0) return;
      } catch (err) {
        metrics.persistFailures.inc();
        log.warn({ err, retryInMs: backoff }, 'persisting messages before stopping failed; retrying');
        await delay(backoff, undefined, { signal: deadline }).catch(() => undefined);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      }
    }
    log.warn({ flushMs: config.PERSIST_FLUSH_MS }, 'stopping with messages still in the outbox; another worker will persist them');
  }

  async function sweep(): Promise<void> {
    const scan = redis.scanStream({ match: keys.outboxPattern, type: 'stream', count: 1000 });
    for await (const found of scan as AsyncIterable<string[]>) {
      for (const outboxKey of found) await redis.sadd(keys.outboxRooms(outboxShardOf(outboxKey)), outboxKey);
    }
  }

  const running = (async () => {
    let backoff = BACKOFF_MIN_MS;
    let nextSweep = 0;
    while (!stopping.signal.aborted) {
      let wait: number;
      try {
        const shards = await ownership.shards();
        // One worker sweeps (the holder of shard 0): a scan of the keyspace per worker would cost workers × keys.
        if (shards.includes(0) && Date.now() >= nextSweep) {
          await sweep();
          nextSweep = Date.now() + SWEEP_INTERVAL_MS;
        }
        const { full, failure } = await persistAll(stopping.signal, shards);
        if (failure !== undefined) throw failure;
        backoff = BACKOFF_MIN_MS;
        wait = full ? 0 : IDLE_POLL_MS;
      } catch (err) {
        metrics.persistFailures.inc();
        log.warn({ err, retryInMs: backoff }, 'persisting messages failed; retrying the same entries');
        wait = backoff;
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      }
      await delay(wait, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  })();

  return {
    async stop() {
      stopping.abort();
      await running;
      await flush();
    },
  };
}
