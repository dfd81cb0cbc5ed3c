// Room lifecycle operations from the app's back end (through the gateway's HTTP endpoint).
import { type LiveStreamsTable, type Selectable, sql } from '@lomi/db';
import { ErrorCode, internal, RoomKind, type lomi, type Room } from '@lomi/protocol';
import { createServiceDispatcher } from '@lomi/dispatch';
import { randomId, storableUserId, validRoomId } from '@lomi/validation';
import type { WorkerContext } from './context';
import { badRequest, rejection, RequestError } from './errors';
import { conversationMembers, type Rooms } from './rooms';

const streamId = (value: string): string => validRoomId('stream id', value);

const liveRoom = (id: string): Room => ({ kind: RoomKind.ROOM_KIND_LIVE, id });

function toLiveStream(row: Selectable<LiveStreamsTable>): lomi.internal.v1.ILiveStream {
  return {
    id: row.id,
    broadcasterId: row.broadcaster_id,
    status: row.status,
    startedAtMs: row.started_at.getTime(),
    endedAtMs: row.ended_at?.getTime() ?? 0,
  };
}

export function createServiceHandler(ctx: WorkerContext, rooms: Rooms) {
  const { db } = ctx;

  async function createConversation(op: lomi.internal.v1.CreateConversation): Promise<lomi.internal.v1.IConversation> {
    const a = storableUserId('user_a', op.userA);
    const b = storableUserId('user_b', op.userB);
    if (a === b) throw badRequest('a conversation needs two different users');
    const [userA, userB] = conversationMembers(a, b);
    const inserted = await db
      .insertInto('conversations')
      .values({ id: randomId(), user_a: userA, user_b: userB })
      .onConflict((oc) => oc.columns(['user_a', 'user_b']).doNothing())
      .returning('id')
      .executeTakeFirst();
    const id = inserted?.id ?? (await db.selectFrom('conversations').select('id').where('user_a', '=', userA).where('user_b', '=', userB).executeTakeFirstOrThrow()).id;
    // Read back rather than assumed: a block between the two may predate the conversation.
    await rooms.reload({ kind: RoomKind.ROOM_KIND_PRIVATE, id });
    return { id, memberIds: [userA, userB], created: inserted !== undefined };
  }

  async function createLiveStream(op: lomi.internal.v1.CreateLiveStream): Promise<lomi.internal.v1.ILiveStream> {
    const broadcasterId = storableUserId('broadcaster_id', op.broadcasterId);
    const id = op.id ? streamId(op.id) : randomId();
    const inserted = await db
      .insertInto('live_streams')
      .values({ id, broadcaster_id: broadcasterId, status: 'live' })
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst();
    const row = inserted ?? (await db.selectFrom('live_streams').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
    // A retried create is answered with the stream it made; any other reuse of the id is refused.
    if (row.status !== 'live' || row.broadcaster_id !== broadcasterId) throw badRequest('stream id already used');
    await rooms.remember(liveRoom(id), { kind: 'live', status: 'live', broadcasterId });
    return toLiveStream(row);
  }

  async function endLiveStream(op: lomi.internal.v1.EndLiveStream): Promise<lomi.internal.v1.ILiveStream> {
    const id = streamId(op.id);
    const ended =
      (await db
        .updateTable('live_streams')
        .set({ status: 'ended', ended_at: sql<Date>`now()` })
        .where('id', '=', id)
        .where('status', '=', 'live')
        .returningAll()
        .executeTakeFirst()) ?? (await db.selectFrom('live_streams').selectAll().where('id', '=', id).executeTakeFirst());
    if (!ended) throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, 'no such live stream');
    const room = liveRoom(id);
    await rooms.remember(room, { kind: 'live', status: 'ended', broadcasterId: ended.broadcaster_id });
    // Also on a repeated call: it costs nothing and reaches gateways (and workers closing the
    // stream's presence) that missed the first one; both reactions are idempotent.
    ctx.bus.publish(ctx.subjects.room(room), internal.RoomEvent.encode({ roomClosed: { room, reason: 'stream ended' } }).finish());
    ctx.bus.publish(ctx.subjects.events.streamEnded, internal.StreamEnded.encode({ room }).finish());
    return toLiveStream(ended);
  }

  async function answer(request: lomi.internal.v1.ServiceRequest): Promise<lomi.internal.v1.IServiceReply> {
    switch (request.op) {
      case 'createConversation':
        return { conversation: await createConversation(request.createConversation as lomi.internal.v1.CreateConversation) };
      case 'createLiveStream':
        return { liveStream: await createLiveStream(request.createLiveStream as lomi.internal.v1.CreateLiveStream) };
      case 'endLiveStream':
        return { liveStream: await endLiveStream(request.endLiveStream as lomi.internal.v1.EndLiveStream) };
      default:
        throw badRequest('no operation given');
    }
  }

  return createServiceDispatcher(answer, (op, err) => rejection(ctx, op, err));
}
