// Deleted messages. The moderation workers decide who may delete what and ask here
// (TombstoneRequest), because history is this worker's: Postgres message_deletions is the record,
// kept apart from `messages` so a deletion holds for a message the persister has not written yet;
// the room log keeps the room's deletions beside its history, so reads of it apply them without Postgres. Every
// read of history (pages, recovery, gap fills, the conversation list) returns a tombstone in place
// of a deleted message: seq, id, sender, kind and times kept, content and gift gone.
import { storableUserId } from '@lomi/validation';
import { internal, MessageKind, type lomi, type Room } from '@lomi/protocol';
import { sql } from '@lomi/db';
import type { WorkerContext } from './context';
import { badRequest, replyHandler } from './errors';
import { roomColumns, roomKindColumn } from './room-columns';
import { decodeEntry, type Deletion, type RoomLog } from './room-log';
import { validRoom } from './rooms';

/** A clear looks at this many of the room's newest messages for the user's. */
const CLEAR_SCAN = 1000;
/** Most seqs one request may delete. */
const MAX_SEQS = 1000;

function tombstone(m: lomi.chat.v1.ChatMessage, d: Deletion): void {
  m.content = '';
  m.gift = null;
  m.deletedBy = d.by;
  m.deletedAtMs = d.at;
}

export type Tombstones = ReturnType<typeof createTombstones>;

export function createTombstones(ctx: WorkerContext, roomLog: RoomLog) {
  const { db, bus, subjects } = ctx;

  /** The user's messages among the room's newest CLEAR_SCAN, not already deleted. */
  async function recentOf(room: Room, senderId: string): Promise<number[]> {
    return (await roomLog.latest(room, CLEAR_SCAN))
      .map(decodeEntry)
      .filter((m) => m.senderId === senderId && m.kind !== MessageKind.MESSAGE_KIND_SYSTEM)
      .map((m) => Number(m.seq));
  }

  /** Records the deletions (a repeat keeps the first), mirrors them in the room log and tells the room of the new ones. */
  async function remove(room: Room, seqs: number[], by: string): Promise<number[]> {
    if (seqs.length === 0) return [];
    const at = new Date();
    const rows = await db
      .insertInto('message_deletions')
      .values(seqs.map((seq) => ({ ...roomColumns(room), seq, deleted_by: by, deleted_at: at })))
      // A no-op update, so that rows already there come back too (and fresh ones say so).
      .onConflict((oc) => oc.columns(['room_kind', 'room_id', 'seq']).doUpdateSet({ seq: (eb) => eb.ref('excluded.seq') }))
      .returning(['seq', 'deleted_by', 'deleted_at', sql<boolean>`xmax = 0`.as('fresh')])
      .execute();
    // Every row, not only the fresh ones: a retry repairs a room log write that failed the first time.
    await roomLog.recordDeletions(room, new Map(rows.map((r) => [Number(r.seq), { by: r.deleted_by, at: r.deleted_at.getTime() }])));
    const fresh = rows
      .filter((r) => r.fresh)
      .map((r) => Number(r.seq))
      .sort((a, b) => a - b);
    if (fresh.length > 0) {
      const messageDeleted = { room, seqs: fresh, deletedBy: by, deletedAtMs: at.getTime() };
      bus.publish(subjects.room(room), internal.RoomEvent.encode({ messageDeleted }).finish());
    }
    return fresh;
  }

  async function answer(request: lomi.internal.v1.TombstoneRequest): Promise<lomi.internal.v1.ITombstoneReply> {
    const room = validRoom(request.room);
    const by = storableUserId('deleted_by', request.deletedBy);
    if (!by) throw badRequest('deleted_by is required');
    if (request.senderId) return { seqs: await remove(room, await recentOf(room, storableUserId('sender_id', request.senderId)), by) };
    const seqs = [...new Set(request.seqs.map(Number))];
    if (seqs.length === 0 || seqs.length > MAX_SEQS || seqs.some((s) => !Number.isSafeInteger(s) || s < 1)) {
      throw badRequest(`seqs must be 1–${MAX_SEQS} seqs of at least 1`);
    }
    return { seqs: await remove(room, seqs, by) };
  }

  return {
    /** Answers a TombstoneRequest. */
    handle: replyHandler(ctx, 'tombstone', internal.TombstoneRequest, internal.TombstoneReply, answer),

    /** Replaces deleted messages read from the room log with tombstones, in place; `deletions` are its (seq → deletion). */
    fromRoomLog(messages: lomi.chat.v1.ChatMessage[], deletions: Map<number, Deletion>): void {
      for (const m of messages) {
        const d = deletions.get(Number(m.seq));
        if (d) tombstone(m, d);
      }
    },

    /** Replaces deleted messages with seq in (afterSeq, untilSeq] read from Postgres with tombstones, in place. */
    async fromPostgres(room: Room, afterSeq: number, untilSeq: number, messages: lomi.chat.v1.ChatMessage[]): Promise<void> {
      if (messages.length === 0) return;
      const rows = await db
        .selectFrom('message_deletions')
        .select(['seq', 'deleted_by', 'deleted_at'])
        .where('room_kind', '=', roomKindColumn(room))
        .where('room_id', '=', room.id ?? '')
        .where('seq', '>', afterSeq)
        .where('seq', '<=', untilSeq)
        .execute();
      const bySeq = new Map(rows.map((r) => [Number(r.seq), { by: r.deleted_by, at: r.deleted_at.getTime() }]));
      for (const m of messages) {
        const d = bySeq.get(Number(m.seq));
        if (d) tombstone(m, d);
      }
    },
  };
}
