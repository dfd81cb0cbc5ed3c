// Read-only HTTP calls forwarded by gateways (ApiRequest → ApiReply with a JSON body). Called
// with the service token the app back end may read any room; a user reads what they may join.
import { createApiDispatcher } from '@lomi/dispatch';
import { chat, ErrorCode, int64Json, RoomKind, toJsonOptions, type lomi } from '@lomi/protocol';
import type { WorkerContext } from './context';
import { rejection, RequestError } from './errors';
import type { Pager } from './pages';
import { validRoom, type Rooms } from './rooms';

const TOP_GIFTERS_DEFAULT = 10;
const TOP_GIFTERS_MAX = 100;

const optionalNumber = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RequestError(ErrorCode.ERROR_CODE_BAD_REQUEST, `${name} must be a whole number`);
  return n;
};

export function createApiHandler(ctx: WorkerContext, rooms: Rooms, page: Pager) {
  async function messages(kind: RoomKind, request: lomi.internal.v1.ApiRequest): Promise<unknown> {
    const room = validRoom({ kind, id: request.params.id });
    await rooms.authorizeRead(room, request);
    const reply = await page(room, {
      afterSeq: optionalNumber(request.params.after_seq, 'after_seq'),
      beforeSeq: optionalNumber(request.params.before_seq, 'before_seq'),
      limit: optionalNumber(request.params.limit, 'limit'),
    });
    return chat.HistoryReply.toObject(chat.HistoryReply.create(reply), toJsonOptions);
  }

  /**
   * A live stream's gift totals and top gifters, from Postgres: the persister adds each gift to
   * them exactly once, in the transaction that stores it, so they lag the chat by its delay only.
   */
  async function gifts(request: lomi.internal.v1.ApiRequest): Promise<unknown> {
    const room = validRoom({ kind: RoomKind.ROOM_KIND_LIVE, id: request.params.id });
    await rooms.authorizeRead(room, request);
    const limit = optionalNumber(request.params.limit, 'limit') ?? TOP_GIFTERS_DEFAULT;
    if (limit < 1 || limit > TOP_GIFTERS_MAX) throw new RequestError(ErrorCode.ERROR_CODE_BAD_REQUEST, `limit must be 1–${TOP_GIFTERS_MAX}`);
    const id = room.id ?? '';
    const [totals, top] = await Promise.all([
      ctx.db.selectFrom('live_streams').select(['gift_count', 'gift_value']).where('id', '=', id).executeTakeFirstOrThrow(),
      ctx.db
        .selectFrom('live_stream_gifters')
        .select(['sender_id', 'gift_count', 'gift_value'])
        .where('stream_id', '=', id)
        .orderBy('gift_value', 'desc')
        .orderBy('sender_id')
        .limit(limit)
        .execute(),
    ]);
    return {
      room: { kind: 'ROOM_KIND_LIVE', id },
      giftCount: int64Json(totals.gift_count),
      giftValue: int64Json(totals.gift_value),
      topGifters: top.map((g) => ({ userId: g.sender_id, giftCount: int64Json(g.gift_count), giftValue: int64Json(g.gift_value) })),
    };
  }

  return createApiDispatcher(
    {
      'live.messages': (r) => messages(RoomKind.ROOM_KIND_LIVE, r),
      'conversation.messages': (r) => messages(RoomKind.ROOM_KIND_PRIVATE, r),
      'live.gifts': gifts,
    },
    (op, err) => rejection(ctx, op, err),
  );
}
