// A room's chain of epochs in Postgres (room_epochs): the resets that lie above a seq.
import type { Database, Kysely } from '@lomi/db';
import type { lomi, Room } from '@lomi/protocol';
import { roomColumns } from './room-columns';

/** The room's resets whose start_seq is at least `fromSeq`, oldest first (a room's first epoch is none). */
export async function resetsFrom(db: Kysely<Database>, room: Room, fromSeq: number): Promise<lomi.chat.v1.IRoomReset[]> {
  const rows = await db
    .selectFrom('room_epochs')
    .select(['epoch', 'base_seq', 'previous_epoch', 'previous_last_seq'])
    .where((eb) => eb.and(roomColumns(room)))
    .where('base_seq', '>=', fromSeq)
    .where('previous_epoch', '<>', '')
    .orderBy('base_seq')
    .execute();
  return rows.map((r) => ({
    room: { kind: room.kind, id: room.id },
    epoch: r.epoch,
    previousEpoch: r.previous_epoch,
    lastSeq: r.previous_last_seq,
    startSeq: r.base_seq,
  }));
}
