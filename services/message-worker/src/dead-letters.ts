// One outbox entry that can never become a row must not hold up the room's later messages (the
// persister would retry the same batch for ever). A batch refused as data is split in halves
// until the refused entries stand alone; the rest is stored, and those are set aside in
// Postgres' persist_dead_letters — raw, with the error — counted in
// lomi_persist_dead_letters_total (alerted on), and deleted from the outbox like stored ones.
// In Postgres rather than a Redis stream: the row holds only bytes (bytea) and text of ours, which
// Postgres takes whatever the message held, and it sits beside the messages it is missing from.
import { sqlStateOf } from '@lomi/errors';
import { roomKindName, type lomi, type Room } from '@lomi/protocol';
import type { WorkerContext } from './context';
import { storeMessages, UnstorableMessageError } from './message-store';
import { decodeEntry, type LogEntry } from './room-log';

/** An outbox entry that could not be stored, and why. */
interface Refused {
  entry: LogEntry;
  err: unknown;
}

interface Decoded {
  entry: LogEntry;
  message: lomi.chat.v1.ChatMessage;
}

/**
 * Whether retrying cannot help: Postgres refused the rows' data (SQLSTATE class 22, data
 * exception, e.g. 22021 for U+0000 in text; class 23, a constraint other than the unique ones
 * the insert skips) or a message could not be mapped to a row at all.
 */
export function isDataError(err: unknown): boolean {
  const sqlState = sqlStateOf(err);
  if (sqlState) return sqlState.startsWith('22') || sqlState.startsWith('23');
  return err instanceof UnstorableMessageError;
}

export function createDeadLetters(ctx: WorkerContext) {
  const { db, log, metrics } = ctx;

  /** Stores `items` of `room`, halving the batch around data errors; returns how many were stored. */
  async function storeSplitting(room: Room, items: Decoded[], refused: Refused[]): Promise<number> {
    if (items.length === 0) return 0;
    try {
      await storeMessages(
        db,
        room,
        items.map((i) => i.message),
      );
      return items.length;
    } catch (err) {
      // Anything else (Postgres down) is retried whole, after a back-off, by the persister.
      if (!isDataError(err)) throw err;
      if (items.length === 1) {
        refused.push({ entry: items[0]!.entry, err });
        return 0;
      }
      const half = items.length >> 1;
      return (await storeSplitting(room, items.slice(0, half), refused)) + (await storeSplitting(room, items.slice(half), refused));
    }
  }

  /** Records the `refused` entries of `room` (once each, however often this is retried). */
  async function setAside(room: Room, refused: Refused[]): Promise<void> {
    const rows = refused.map(({ entry, err }) => ({
      room_kind: roomKindName(room.kind)!,
      room_id: room.id ?? '',
      seq: entry.seq,
      entry: Buffer.from(entry.bytes ?? []),
      // The one character Postgres text cannot hold, should an error message quote it.
      error: String(err instanceof Error ? err.message : err).replaceAll('\0', '\\0'),
      sqlstate: sqlStateOf(err) ?? null,
    }));
    const recorded = await db
      .insertInto('persist_dead_letters')
      .values(rows)
      .onConflict((oc) => oc.columns(['room_kind', 'room_id', 'seq']).doNothing())
      .returning('seq')
      .execute();
    metrics.deadLetters.inc(recorded.length);
    for (const row of rows) {
      log.error({ room: `${row.room_kind}:${row.room_id}`, seq: row.seq, error: row.error, sqlstate: row.sqlstate }, 'outbox entry set aside in persist_dead_letters');
    }
  }

  return {
    /**
     * Stores one batch of `room`'s outbox entries, setting aside those that can never be stored.
     * Returns how many were stored; throws (nothing set aside) on any other failure.
     */
    async store(room: Room, entries: LogEntry[]): Promise<number> {
      // The outbox's own room, not the messages' (a message without one is refused as a row).
      const refused: Refused[] = [];
      const decoded: Decoded[] = [];
      for (const entry of entries) {
        try {
          decoded.push({ entry, message: decodeEntry(entry) });
        } catch (err) {
          refused.push({ entry, err });
        }
      }
      const stored = await storeSplitting(room, decoded, refused);
      if (refused.length > 0) await setAside(room, refused);
      return stored;
    },
  };
}
