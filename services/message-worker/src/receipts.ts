// Read and delivery receipts of private rooms, and the unread counts derived from them, in
// Postgres (conversation_reads) alone (docs/decisions/0017). Reading up to a seq implies having
// received it, so a read also moves the delivered seq. Unread count = messages FROM THE OTHER
// MEMBER after my read seq, counted when asked rather than kept as a counter.
import type { lomi, Room } from '@lomi/protocol';
import { sql } from '@lomi/db';
import type { WorkerContext } from './context';
import { countStoredFrom } from './message-store';
import { decodeEntry, type Outbox } from './room-log';

export type ReceiptKind = 'read' | 'delivered';

export type Receipts = ReturnType<typeof createReceipts>;

export function createReceipts(ctx: WorkerContext, outbox: Outbox) {
  const { db } = ctx;

  async function unreadCount(room: Room, otherId: string, myReadSeq: number): Promise<number> {
    // The outbox first: the persister deletes an entry only after its row committed, so a message
    // gone from the outbox by now is counted by the Postgres query, and one still in it is
    // counted here (and left out of the query, in case its row has just committed).
    const pending = (await outbox.range(room, myReadSeq)).map(decodeEntry);
    const stored = await countStoredFrom(
      db,
      room,
      otherId,
      myReadSeq,
      pending.map((m) => m.seq),
    );
    return stored + pending.filter((m) => m.senderId === otherId).length;
  }

  return {
    /**
     * Moves `userId`'s receipt forward to `seq` (never back). Returns the member's receipt when it
     * changed, undefined when it was already there.
     */
    async advance(room: Room, userId: string, kind: ReceiptKind, seq: number): Promise<lomi.chat.v1.IReceiptEvent | undefined> {
      const values = { conversation_id: room.id ?? '', user_id: userId, read_seq: kind === 'read' ? seq : 0, delivered_seq: seq };
      const row = await db
        .insertInto('conversation_reads')
        .values(values)
        .onConflict((oc) =>
          oc
            .columns(['conversation_id', 'user_id'])
            .doUpdateSet({
              read_seq: sql`greatest(conversation_reads.read_seq, excluded.read_seq)`,
              delivered_seq: sql`greatest(conversation_reads.delivered_seq, excluded.delivered_seq)`,
              updated_at: sql`now()`,
            })
            .where((eb) =>
              eb.or([eb('conversation_reads.read_seq', '<', eb.ref('excluded.read_seq')), eb('conversation_reads.delivered_seq', '<', eb.ref('excluded.delivered_seq'))]),
            ),
        )
        .returning(['read_seq', 'delivered_seq'])
        .executeTakeFirst();
      return row && { room, userId, readSeq: row.read_seq, deliveredSeq: row.delivered_seq };
    },

    /** The conversation's receipts as `userId` sees them, with their unread count. */
    async readState(room: Room, userId: string, otherId: string): Promise<lomi.chat.v1.IReadState> {
      const rows = await db
        .selectFrom('conversation_reads')
        .select(['user_id', 'read_seq', 'delivered_seq'])
        .where('conversation_id', '=', room.id ?? '')
        .execute();
      const mine = rows.find((r) => r.user_id === userId);
      const other = rows.find((r) => r.user_id === otherId);
      const myReadSeq = mine?.read_seq ?? 0;
      return {
        myReadSeq,
        otherReadSeq: other?.read_seq ?? 0,
        otherDeliveredSeq: other?.delivered_seq ?? 0,
        unreadCount: await unreadCount(room, otherId, myReadSeq),
      };
    },
  };
}

/** The other member of a private room. */
export function otherMember(members: string[], userId: string): string {
  return members.find((m) => m !== userId) ?? '';
}
