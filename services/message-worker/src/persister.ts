// Moves messages from the rooms' outboxes (Outbox, room-log.ts) into Postgres. The outboxes are listed in
// OUTBOX_SHARDS work lists, which the live message workers divide between them (outbox-shards.ts),
// so each worker scans only its own and the cost grows with the messages, not with workers ×
// rooms. While the workers change, two may briefly drain the same room: harmless, because inserts
// skip rows already stored. An entry is deleted from the outbox only after its row committed, or
// after it was set aside as a dead letter (dead-letters.ts) because Postgres can never take it,
// so nothing is ever dropped.
import { setTimeout as delay } from 'node:timers/promises';
import { OUTBOX_SHARDS } from '@lomi/hot-state';
import type { Room } from '@lomi/protocol';
import type { WorkerContext } from './context';
import { createDeadLetters } from './dead-letters';
import { joinShardOwnership } from './outbox-shards';
import type { Outbox } from './room-log';

const IDLE_POLL_MS = 50;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;
// Lists outboxes missing from their work list (Redis: a worker that died between the append
// script and its SADD leaves one behind).
const SWEEP_INTERVAL_MS = 30_000;

export interface Persister {
  /** Finishes the outbox in hand, persists what is left (for up to PERSIST_FLUSH_MS) and stops. */
  stop(): Promise<void>;
}

export function startPersister(ctx: WorkerContext, outbox: Outbox): Persister {
  const { log, metrics, config } = ctx;
  const deadLetters = createDeadLetters(ctx);
  const allShards = Array.from({ length: OUTBOX_SHARDS }, (_, i) => i);
  const ownership = joinShardOwnership(ctx, outbox);
  const stopping = new AbortController();

  /** Persists one batch of one outbox; returns whether the batch was full and what is left. */
  async function persistOutbox(room: Room): Promise<{ full: boolean; left: number }> {
    const entries = await outbox.oldest(room, config.PERSIST_BATCH);
    if (entries.length > 0) {
      metrics.persisted.inc(await deadLetters.store(room, entries));
      await outbox.remove(
        room,
        entries.map((e) => e.seq),
      );
    }
    const left = await outbox.remaining(room);
    return { full: entries.length === config.PERSIST_BATCH, left };
  }

  /**
   * One round over every outbox listed in the shards `drains` picks (asked as each shard comes up,
   * so one taken over mid-round is drained in this round); one failing room does not hold up the others.
   */
  async function persistAll(until: AbortSignal, drains: (shard: number) => boolean): Promise<{ full: boolean; backlog: number; failure?: { err: unknown } }> {
    let full = false;
    let backlog = 0;
    let failure: { err: unknown } | undefined;
    for (const shard of allShards) {
      if (!drains(shard)) continue;
      for (const room of await outbox.listed(shard)) {
        if (until.aborted) break;
        try {
          const result = await persistOutbox(room);
          full ||= result.full;
          backlog += result.left;
        } catch (err) {
          failure ??= { err };
        }
      }
    }
    if (!failure) metrics.outboxBacklog.set(backlog);
    return { full, backlog, failure };
  }

  /**
   * At stop, after the worker's last append: hands its shards to the others, then persists what
   * is left in every outbox until they are empty or PERSIST_FLUSH_MS ran out, so that a
   * scale-down or the last worker leaving does not leave acked messages out of Postgres for long.
   * What is left waits for another worker.
   */
  async function flush(): Promise<void> {
    await (await ownership).leave().catch((err: unknown) => log.warn({ err }, 'could not hand over the outbox shards; they move once this worker expires'));
    const deadline = AbortSignal.timeout(config.PERSIST_FLUSH_MS);
    let backoff = BACKOFF_MIN_MS;
    while (!deadline.aborted) {
      try {
        const { full, backlog, failure } = await persistAll(deadline, () => true);
        if (failure) throw failure.err;
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

  const running = (async () => {
    let backoff = BACKOFF_MIN_MS;
    let nextSweep = 0;
    const shards = await ownership;
    while (!stopping.signal.aborted) {
      let wait: number;
      try {
        // One worker sweeps (the holder of shard 0): a scan of the keyspace per worker would cost workers × keys.
        if (shards.owns(0) && Date.now() >= nextSweep) {
          await outbox.sweep();
          nextSweep = Date.now() + SWEEP_INTERVAL_MS;
        }
        const { full, failure } = await persistAll(stopping.signal, shards.owns);
        if (failure) throw failure.err;
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
