// Message reports: any member or viewer of a room reports a stored message; the app's moderators
// list the reports with the service API. A report keeps the message as it was when reported
// (whatever later happens to it) with its sender, the reporter, the reason and the time.
import { badRequest, RequestError } from '@lomi/errors';
import { validRoom } from '@lomi/validation';
import { chat, ErrorCode, int64Json, roomKindName, roomKindOfName, toJsonOptions, type lomi, type Room } from '@lomi/protocol';
import type { ModerationContext } from './context';
import { page, pageRequest } from './pages';
import { reasonText } from './reasons';
import type { StoredMessages } from './stored-messages';

export function createReports(ctx: ModerationContext, storedMessage: StoredMessages) {
  const { db, rooms, config, metrics } = ctx;

  /** ReportMessage from `userId`; a repeat of the same report is stored once. */
  async function report(userId: string, cmd: lomi.chat.v1.IReportMessage): Promise<void> {
    const room = validRoom(cmd.room);
    // Whoever may read the room may report in it, also once the stream has ended.
    await rooms.authorize(room, userId, 'history');
    const reason = reasonText('reason', cmd.reason ?? '', config.REASON_MAX_LENGTH);
    const message = await storedMessage(room, Number(cmd.seq ?? 0), 'seq');
    const inserted = await db
      .insertInto('message_reports')
      .values({
        room_kind: roomKindName(room.kind)!,
        room_id: room.id ?? '',
        seq: Number(message.seq),
        // Decoded from the message workers' reply: a ChatMessage instance.
        message: JSON.stringify(chat.ChatMessage.toObject(message as lomi.chat.v1.ChatMessage, { longs: String, enums: String })),
        sender_id: message.senderId ?? '',
        reporter_id: userId,
        reason,
      })
      .onConflict((oc) => oc.columns(['room_kind', 'room_id', 'seq', 'reporter_id']).doNothing())
      .executeTakeFirst();
    if ((inserted.numInsertedOrUpdatedRows ?? 0n) > 0n) metrics.reports.inc();
  }

  /** GET /api/v1/reports (service token): newest first, of one room with room_kind and room_id. */
  async function list(request: lomi.internal.v1.ApiRequest): Promise<unknown> {
    if (!request.service) throw new RequestError(ErrorCode.ERROR_CODE_FORBIDDEN, 'reports are listed with the service token only');
    const { room_kind: kind, room_id: id } = request.params;
    let room: Room | undefined;
    if (kind || id) {
      const roomKind = kind ? roomKindOfName(kind) : undefined;
      if (roomKind === undefined) throw badRequest('room_kind must be live or private (with room_id)');
      room = validRoom({ kind: roomKind, id });
    }
    const wanted = pageRequest(request.params);
    let query = db
      .selectFrom('message_reports')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(wanted.limit + 1);
    if (room) query = query.where('room_kind', '=', roomKindName(room.kind)!).where('room_id', '=', room.id ?? '');
    if (wanted.beforeId !== undefined) query = query.where('id', '<', wanted.beforeId);
    const { rows, nextCursor } = page(await query.execute(), wanted);
    return {
      reports: rows.map((r) => ({
        id: String(r.id),
        room: { kind: r.room_kind === 'live' ? 'ROOM_KIND_LIVE' : 'ROOM_KIND_PRIVATE', id: r.room_id },
        seq: int64Json(r.seq),
        message: chat.ChatMessage.toObject(chat.ChatMessage.fromObject(r.message as Record<string, unknown>), toJsonOptions),
        senderId: r.sender_id,
        reporterId: r.reporter_id,
        reason: r.reason,
        createdAtMs: int64Json(r.created_at.getTime()),
      })),
      nextCursor,
    };
  }

  return { report, list };
}
