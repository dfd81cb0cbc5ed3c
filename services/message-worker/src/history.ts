// Reading a room's messages: the room log's history first, and for the part trimmed from it,
// Postgres (plus the outbox, for messages trimmed before the persister wrote them). Deleted
// messages come back as tombstones (tombstones.ts).
import type { lomi, Room } from '@lomi/protocol';
import type { WorkerContext } from './context';
import { resetsFrom } from './epochs';
import { storedMessagesBetween } from './message-store';
import { decodeEntry, type Outbox, type RoomLog, type RoomState } from './room-log';
import type { Sequences } from './sequences';
import type { Tombstones } from './tombstones';

export type History = ReturnType<typeof createHistory>;

export function createHistory(ctx: WorkerContext, roomLog: RoomLog, outbox: Outbox, sequences: Sequences, tombstones: Tombstones) {
  const { db } = ctx;

  async function olderThanHistory(room: Room, afterSeq: number, untilSeq: number): Promise<lomi.chat.v1.ChatMessage[]> {
    // The outbox first: the persister deletes an entry only after its row committed, so whatever
    // is gone from the outbox by now is visible to the Postgres query that follows.
    const pending = (await outbox.range(room, afterSeq, untilSeq)).map(decodeEntry);
    const bySeq = new Map((await storedMessagesBetween(db, room, afterSeq, untilSeq)).map((m) => [m.seq, m]));
    for (const m of pending) bySeq.set(m.seq, m);
    const older = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    await tombstones.fromPostgres(room, afterSeq, untilSeq, older);
    return older;
  }

  return {
    /** The room's newest seq, epoch and epoch start; a room whose state the room log lost is reset first. */
    top: (room: Room): Promise<RoomState> => sequences.current(room),

    /**
     * The resets a read from `afterSeq` may cross (start_seq ≥ afterSeq), oldest first. Only
     * Postgres knows them, and it is asked only for reads that reach below the current epoch
     * when that epoch began with a reset (a reset starts at a reserved ceiling, never at 0).
     */
    async resetsFrom(room: Room, afterSeq: number, top: RoomState): Promise<lomi.chat.v1.IRoomReset[]> {
      return afterSeq > top.epochStart || top.epochStart === 0 ? [] : resetsFrom(db, room, afterSeq);
    },

    /**
     * Every message with seq in (afterSeq, untilSeq] that is still stored, in seq order. Within
     * an epoch seqs have no gaps; a reset's hole names no message (holes.ts counts them). Callers
     * bound the span.
     */
    async read(room: Room, afterSeq: number, untilSeq: number): Promise<lomi.chat.v1.ChatMessage[]> {
      if (untilSeq <= afterSeq) return [];
      const { entries, deletions } = await roomLog.read(room, afterSeq, untilSeq);
      const recent = entries.map(decodeEntry);
      tombstones.fromRoomLog(recent, deletions);
      const firstRecent = recent[0]?.seq ?? untilSeq + 1;
      if (firstRecent === afterSeq + 1) return recent;
      return [...(await olderThanHistory(room, afterSeq, firstRecent - 1)), ...recent];
    },
  };
}
