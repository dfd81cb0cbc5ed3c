// Messages in Postgres: the durable record behind the Redis streams.
import { type Database, type Insertable, type Kysely, type MessageKindName, type MessagesTable, type Selectable, sql, type Transaction } from '@lomi/db';
import { chat, MessageKind, RoomKind, type lomi, type Room } from '@lomi/protocol';
import { resetsFrom } from './epochs';
import { SeqSpace } from './holes';
import { roomColumns, roomKindColumn, UnstorableMessageError } from './room-columns';

export { UnstorableMessageError };

type StoredMessage = lomi.chat.v1.ChatMessage;

const kindNames: Record<MessageKind, MessageKindName | undefined> = {
  [MessageKind.MESSAGE_KIND_UNSPECIFIED]: undefined,
  [MessageKind.MESSAGE_KIND_TEXT]: 'text',
  [MessageKind.MESSAGE_KIND_GIFT]: 'gift',
  [MessageKind.MESSAGE_KIND_SYSTEM]: 'system',
};
export function messageKindName(kind: MessageKind): MessageKindName | undefined {
  return kindNames[kind];
}

const kindsByName: Record<MessageKindName, MessageKind> = {
  text: MessageKind.MESSAGE_KIND_TEXT,
  gift: MessageKind.MESSAGE_KIND_GIFT,
  system: MessageKind.MESSAGE_KIND_SYSTEM,
};

function toRow(m: StoredMessage): Insertable<MessagesTable> {
  const room = m.room ?? {};
  const kind = messageKindName(m.kind);
  if (!kind) throw new UnstorableMessageError(`message ${m.id} has no kind`);
  return {
    id: m.id,
    room_kind: roomKindColumn(room),
    room_id: room.id ?? '',
    seq: m.seq,
    sender_id: m.senderId,
    kind,
    content: m.content,
    client_msg_id: m.clientMsgId || null,
    gift_id: m.gift?.giftId ?? null,
    gift_count: m.gift?.count ?? null,
    gift_value: m.gift?.value ?? null,
    is_live: room.kind === RoomKind.ROOM_KIND_LIVE,
    is_system: m.kind === MessageKind.MESSAGE_KIND_SYSTEM,
    created_at: new Date(m.createdAtMs),
  };
}

function fromRow(row: Selectable<MessagesTable>): StoredMessage {
  return chat.ChatMessage.create({
    room: { kind: row.is_live ? RoomKind.ROOM_KIND_LIVE : RoomKind.ROOM_KIND_PRIVATE, id: row.room_id },
    seq: row.seq,
    id: row.id,
    senderId: row.sender_id,
    kind: kindsByName[row.kind],
    content: row.content,
    createdAtMs: row.created_at.getTime(),
    clientMsgId: row.client_msg_id ?? '',
    gift: row.gift_id === null ? null : { giftId: row.gift_id, count: row.gift_count ?? 0, value: row.gift_value ?? 0 },
  });
}

/** The room's highest stored seq, 0 for a room without messages. */
export async function maxStoredSeq(db: Kysely<Database>, room: Room): Promise<number> {
  const row = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.max('seq').as('top'))
    .where('room_kind', '=', roomKindColumn(room))
    .where('room_id', '=', room.id ?? '')
    .executeTakeFirst();
  return row?.top ?? 0;
}

/** Stored messages with seq in (afterSeq, untilSeq], in seq order. */
export async function storedMessagesBetween(db: Kysely<Database>, room: Room, afterSeq: number, untilSeq: number): Promise<StoredMessage[]> {
  const rows = await db
    .selectFrom('messages')
    .selectAll()
    .where('room_kind', '=', roomKindColumn(room))
    .where('room_id', '=', room.id ?? '')
    .where('seq', '>', afterSeq)
    .where('seq', '<=', untilSeq)
    .orderBy('seq')
    .execute();
  return rows.map(fromRow);
}

/** Gift units and coins per sender among `rows`. */
function giftsBySender(rows: { sender_id: string; gift_count: number | null; gift_value: number | null }[]) {
  const bySender = new Map<string, { gift_count: number; gift_value: number }>();
  for (const r of rows) {
    if (r.gift_count === null) continue;
    const totals = bySender.get(r.sender_id) ?? { gift_count: 0, gift_value: 0 };
    totals.gift_count += r.gift_count;
    totals.gift_value += r.gift_value ?? 0;
    bySender.set(r.sender_id, totals);
  }
  return bySender;
}

/**
 * The seqs among `messages` that lie in a reset's hole: Redis lost them before they got here, and
 * the reset has told everyone they name nothing, so they must not appear now (a persister that
 * read them before the loss, a strict send whose commit comes late). Read under a key-share lock
 * on the room's sequence row: a reset locks it for update to compute its hole, so either it sees
 * these rows or this sees its hole.
 */
async function inHoles(trx: Transaction<Database>, room: Room, messages: StoredMessage[]): Promise<Set<number>> {
  const sequence = await trx
    .selectFrom('room_sequences')
    .select('epoch_base')
    .where((eb) => eb.and(roomColumns(room)))
    .forKeyShare()
    .executeTakeFirst();
  const lowest = Math.min(...messages.map((m) => m.seq));
  // Every seq of the current epoch is above its base, and holes lie below it.
  if (!sequence || lowest > sequence.epoch_base) return new Set();
  const space = new SeqSpace(await resetsFrom(trx, room, lowest));
  return new Set(messages.filter((m) => space.inHole(m.seq)).map((m) => m.seq));
}

/**
 * Inserts messages, skipping any already stored, and adds the newly stored ones to the room's
 * aggregates — a live stream's totals and top gifters, a conversation's last seq and activity —
 * so each message is counted exactly once. Returns the ids of the rows it inserted.
 */
async function insertCounted(trx: Transaction<Database>, room: Room, messages: StoredMessage[]): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const inserted = await trx
    .insertInto('messages')
    .values(messages.map(toRow))
    .onConflict((oc) => oc.doNothing())
    .returning(['id', 'sender_id', 'seq', 'created_at', 'gift_count', 'gift_value'])
    .execute();
  if (inserted.length === 0) return new Set();
  const id = room.id ?? '';
  if (room.kind === RoomKind.ROOM_KIND_LIVE) {
    const gifters = giftsBySender(inserted);
    const giftCount = [...gifters.values()].reduce((sum, g) => sum + g.gift_count, 0);
    const giftValue = [...gifters.values()].reduce((sum, g) => sum + g.gift_value, 0);
    await trx
      .updateTable('live_streams')
      .set({
        total_messages: sql`total_messages + ${inserted.length}`,
        gift_count: sql`gift_count + ${giftCount}`,
        gift_value: sql`gift_value + ${giftValue}`,
      })
      .where('id', '=', id)
      .execute();
    if (gifters.size > 0) {
      await trx
        .insertInto('live_stream_gifters')
        .values([...gifters].map(([sender_id, totals]) => ({ stream_id: id, sender_id, ...totals })))
        .onConflict((oc) =>
          oc.columns(['stream_id', 'sender_id']).doUpdateSet({
            gift_count: sql`live_stream_gifters.gift_count + excluded.gift_count`,
            gift_value: sql`live_stream_gifters.gift_value + excluded.gift_value`,
          }),
        )
        .execute();
    }
  } else {
    const last = inserted.reduce((a, b) => (b.seq > a.seq ? b : a));
    await trx
      .updateTable('conversations')
      .set({
        last_seq: sql`greatest(last_seq, ${last.seq})`,
        last_activity_at: sql`greatest(last_activity_at, ${last.created_at})`,
      })
      .where('id', '=', id)
      .execute();
  }
  return new Set(inserted.map((r) => r.id));
}

/**
 * Inserts one room's messages (another persister may have stored some first: they are skipped),
 * counting each in the room's aggregates once, and drops those a reset declared lost. Returns
 * how many rows were new.
 */
export async function storeMessages(db: Kysely<Database>, room: Room, messages: StoredMessage[]): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const lost = await inHoles(trx, room, messages);
    return (
      await insertCounted(
        trx,
        room,
        messages.filter((m) => !lost.has(m.seq)),
      )
    ).size;
  });
}

/** Where a message stands in Postgres after storeDurably. */
export type Durable = { stored: true } | { lost: true } | { duplicateOf: StoredMessage };

/**
 * storeMessages for sends acked only once in Postgres, telling of each message (by id) whether
 * it is stored under its own seq, was declared lost by a reset, or is a resend of a message
 * stored under another seq (Redis forgot its client_msg_id with the rest of its state).
 */
export async function storeDurably(db: Kysely<Database>, room: Room, messages: StoredMessage[]): Promise<Map<string, Durable>> {
  return db.transaction().execute(async (trx) => {
    const outcomes = new Map<string, Durable>();
    const lost = await inHoles(trx, room, messages);
    const kept = messages.filter((m) => !lost.has(m.seq));
    for (const m of messages) if (lost.has(m.seq)) outcomes.set(m.id, { lost: true });
    const inserted = await insertCounted(trx, room, kept);
    const skipped = kept.filter((m) => !inserted.has(m.id));
    const present = new Set(
      skipped.length === 0
        ? []
        : (
            await trx
              .selectFrom('messages')
              .select('id')
              .where(
                'id',
                'in',
                skipped.map((m) => m.id),
              )
              .execute()
          ).map((r) => r.id),
    );
    for (const m of kept) {
      if (inserted.has(m.id) || present.has(m.id)) {
        outcomes.set(m.id, { stored: true });
        continue;
      }
      // Its unique (room, sender, client_msg_id) is taken: the first attempt's row is the message.
      const original = await trx
        .selectFrom('messages')
        .selectAll()
        .where((eb) => eb.and({ ...roomColumns(room), sender_id: m.senderId, client_msg_id: m.clientMsgId }))
        .executeTakeFirstOrThrow();
      outcomes.set(m.id, { duplicateOf: fromRow(original) });
    }
    return outcomes;
  });
}

/** The client_msg_ids (with their seqs) of `senderId`'s messages in the room up to `untilSeq`, created since `since`. */
export async function clientMsgIdsOf(db: Kysely<Database>, room: Room, senderId: string, untilSeq: number, since: Date): Promise<{ clientMsgId: string; seq: number }[]> {
  const rows = await db
    .selectFrom('messages')
    .select(['client_msg_id', 'seq'])
    .where('room_kind', '=', roomKindColumn(room))
    .where('room_id', '=', room.id ?? '')
    .where('sender_id', '=', senderId)
    .where('client_msg_id', 'is not', null)
    .where('seq', '<=', untilSeq)
    .where('created_at', '>=', since)
    .execute();
  return rows.map((r) => ({ clientMsgId: r.client_msg_id!, seq: r.seq }));
}

/** How many stored messages of `senderId` have seq in (afterSeq, ∞), leaving out the seqs in `skip`. */
export async function countStoredFrom(db: Kysely<Database>, room: Room, senderId: string, afterSeq: number, skip: number[]): Promise<number> {
  let query = db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('room_kind', '=', roomKindColumn(room))
    .where('room_id', '=', room.id ?? '')
    .where('seq', '>', afterSeq)
    .where('sender_id', '=', senderId);
  if (skip.length > 0) query = query.where('seq', 'not in', skip);
  return Number((await query.executeTakeFirst())?.n ?? 0);
}
