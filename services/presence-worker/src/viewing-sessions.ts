// Viewing sessions and viewer statistics in Postgres, written by this worker rather than by
// triggers: the worker already knows from its store, atomically, when a DISTINCT user arrives or
// departs and what the concurrent count and the distinct total are, whereas a trigger would have
// to recount open sessions (O(viewers)) on every insert. The writes are batched (a stream start
// brings thousands of joins a second) and made commutative and idempotent, so two workers, a
// retried batch or a departure that reaches Postgres before its arrival still leave exact rows:
//  - a session is keyed by (stream, user, joined_at) — a unique index, migration 0002 — and its
//    start and its end are two upserts on that key;
//  - peak and total only ever grow, with GREATEST.
import { sql } from '@lomi/db';
import type { PresenceChange } from '@lomi/presence';
import type { PresenceContext } from './context';

/** How often queued session changes are written. */
const FLUSH_MS = 200;
/** Rows per INSERT (4 parameters each; Postgres takes 65535 per statement). */
const BATCH_ROWS = 2000;
const RETRY_MAX_MS = 10_000;

export interface SessionRow {
  stream_id: string;
  user_id: string;
  joined_at: Date;
  left_at: Date | null;
}

/**
 * One row per session, for one statement (which may not upsert a row twice): a session that
 * began and ended within the batch becomes its closed row alone.
 */
export function uniqueSessions(batch: SessionRow[]): SessionRow[] {
  const byKey = new Map<string, SessionRow>();
  for (const row of batch) {
    const key = `${row.stream_id}|${row.user_id}|${row.joined_at.getTime()}`;
    if (!byKey.get(key)?.left_at) byKey.set(key, row);
  }
  return [...byKey.values()];
}

export type ViewingSessions = ReturnType<typeof startViewingSessions>;

export function startViewingSessions(ctx: PresenceContext) {
  const { db, log, metrics } = ctx;
  let rows: SessionRow[] = [];
  /** Stream id → the highest peak and distinct total seen since the last write. */
  let stats = new Map<string, { peak: number; total: number }>();
  let failures = 0;
  let writing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  async function writeRows(batch: SessionRow[]): Promise<void> {
    const unique = uniqueSessions(batch);
    for (let i = 0; i < unique.length; i += BATCH_ROWS) {
      await db
        .insertInto('live_stream_viewers')
        .values(unique.slice(i, i + BATCH_ROWS))
        .onConflict((oc) =>
          // A departure closes the session; an arrival written after its departure changes nothing.
          oc.columns(['stream_id', 'user_id', 'joined_at']).doUpdateSet({ left_at: sql`coalesce(excluded.left_at, live_stream_viewers.left_at)` }),
        )
        .execute();
    }
  }

  async function writeStats(batch: Map<string, { peak: number; total: number }>): Promise<void> {
    for (const [id, { peak, total }] of batch) {
      await db
        .updateTable('live_streams')
        .set({ peak_viewers: sql`greatest(peak_viewers, ${peak})`, total_viewers: sql`greatest(total_viewers, ${total})` })
        .where('id', '=', id)
        .execute();
    }
  }

  /** Writes what is queued; on failure puts it back to retry after a back-off. */
  async function write(): Promise<void> {
    const batch = rows;
    const batchStats = stats;
    rows = [];
    stats = new Map();
    try {
      if (batch.length > 0) await writeRows(batch);
      if (batchStats.size > 0) await writeStats(batchStats);
      failures = 0;
    } catch (err) {
      metrics.sessionWriteFailures.inc();
      if (String((err as { code?: unknown }).code).startsWith('23')) {
        // An integrity violation (e.g. a stream row that does not exist) fails every retry alike.
        log.error({ err: (err as Error).message, rows: batch.length }, 'viewing sessions refused by Postgres; dropped');
        return;
      }
      failures += 1;
      log.warn({ err: (err as Error).message, rows: batch.length }, 'writing viewing sessions failed; retrying');
      // Safe to replay: every write is an idempotent upsert.
      rows = batch.concat(rows);
      for (const [id, s] of batchStats) merge(id, s.peak, s.total);
    }
  }

  function merge(streamId: string, peak: number, total: number): void {
    const known = stats.get(streamId);
    stats.set(streamId, { peak: Math.max(peak, known?.peak ?? 0), total: Math.max(total, known?.total ?? 0) });
  }

  function schedule(): void {
    if (timer) return;
    const delay = failures === 0 ? FLUSH_MS : Math.min(FLUSH_MS * 2 ** failures, RETRY_MAX_MS);
    timer = setTimeout(() => {
      timer = undefined;
      void flush().then(() => {
        if (rows.length > 0 || stats.size > 0) schedule();
      });
    }, delay);
  }

  /** Writes everything queued so far (after any write in progress). */
  function flush(): Promise<void> {
    writing = writing.then(write);
    return writing;
  }

  return {
    /** Queues the sessions a presence change opened or closed and the room's new statistics. */
    record(change: PresenceChange): void {
      const streamId = change.room.id ?? '';
      for (const s of change.arrivals) rows.push({ stream_id: streamId, user_id: s.userId, joined_at: new Date(s.since), left_at: null });
      // joined_at is the store's time; never let this worker's clock put the end before the start.
      const leftAt = (since: number) => new Date(Math.max(Date.now(), since));
      for (const s of change.departures) rows.push({ stream_id: streamId, user_id: s.userId, joined_at: new Date(s.since), left_at: leftAt(s.since) });
      merge(streamId, change.peak, change.everCount);
      schedule();
    },

    /** The stream ended: writes what is queued, then closes any session still open in Postgres. */
    async closeStream(streamId: string): Promise<void> {
      await flush();
      await db
        .updateTable('live_stream_viewers')
        .set({ left_at: sql`now()` })
        .where('stream_id', '=', streamId)
        .where('left_at', 'is', null)
        .execute();
    },

    /** Writes what is queued, trying once more if Postgres fails. */
    async stop(): Promise<void> {
      clearTimeout(timer);
      timer = undefined;
      await flush();
      if (rows.length > 0 || stats.size > 0) await flush();
    },
  };
}
