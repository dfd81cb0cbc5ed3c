// A user's conversation list, newest activity first, paged with an opaque keyset cursor.
// Ordered by conversations.last_activity_at, which the persister moves with the messages (why
// Postgres alone: docs/decisions/0017); the last message itself is read from the room's history.
import { RoomKind, type lomi } from '@lomi/protocol';
import type { WorkerContext } from './context';
import { decodeCursor, encodeCursor } from './conversation-cursor';
import { badRequest } from './errors';
import type { History } from './history';
import { otherMember, type Receipts } from './receipts';
import { sql } from '@lomi/db';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

export function createConversationList(ctx: WorkerContext, history: History, receipts: Receipts) {
  const { db } = ctx;

  async function summary(userId: string, row: { id: string; user_a: string; user_b: string; activity_us: string }): Promise<lomi.chat.v1.IConversationSummary> {
    const room = { kind: RoomKind.ROOM_KIND_PRIVATE, id: row.id };
    const otherUserId = otherMember([row.user_a, row.user_b], userId);
    const top = await history.top(room);
    // A reset's new epoch starts empty: the newest message is then the one the reset kept.
    const lastSeq = top.topSeq > top.epochStart ? top.topSeq : top.previousLast;
    const [[lastMessage], readState] = await Promise.all([history.read(room, lastSeq - 1, lastSeq), receipts.readState(room, userId, otherUserId)]);
    return {
      room,
      otherUserId,
      lastMessage: lastMessage ?? null,
      readState,
      lastActivityMs: Math.max(Math.floor(Number(row.activity_us) / 1000), lastMessage?.createdAtMs ?? 0),
    };
  }

  return async function list(userId: string, cmd: lomi.chat.v1.IListConversations): Promise<lomi.chat.v1.IConversationList> {
    const limit = cmd.limit || DEFAULT_LIMIT;
    if (limit > MAX_LIMIT) throw badRequest(`limit must be 1–${MAX_LIMIT}`);
    const after = decodeCursor(cmd.cursor ?? '');
    const rows = await db
      .selectFrom('conversations')
      .select(['id', 'user_a', 'user_b', sql<string>`(extract(epoch from last_activity_at) * 1000000)::bigint::text`.as('activity_us')])
      .where((eb) => eb.or([eb('user_a', '=', userId), eb('user_b', '=', userId)]))
      // A conversation with someone the user blocked leaves their list (it comes back on unblock).
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('user_blocks')
              .select('blocked_id')
              .where('blocker_id', '=', userId)
              .where(sql<boolean>`blocked_id = case when conversations.user_a = ${userId} then conversations.user_b else conversations.user_a end`),
          ),
        ),
      )
      .$if(after !== undefined, (qb) =>
        qb.where(sql<boolean>`(last_activity_at, id) < (timestamptz 'epoch' + ${after![0]}::bigint * interval '1 microsecond', ${after![1]})`),
      )
      .orderBy('last_activity_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      conversations: await Promise.all(page.map((row) => summary(userId, row))),
      nextCursor: rows.length > limit && last ? encodeCursor([last.activity_us, last.id]) : '',
    };
  };
}
