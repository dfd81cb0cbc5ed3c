// Read-only HTTP calls forwarded by gateways. GET /api/v1/live/:id/pinned: whoever may join the
// stream (or the app back end). GET /api/v1/live/:id/moderation-log: its broadcaster, moderators
// and staff, or the app back end. GET /api/v1/reports: the app back end only.
import { createApiDispatcher } from '@lomi/dispatch';
import { validRoom } from '@lomi/validation';
import { assertMayModerate } from '@lomi/moderation';
import { chat, int64Json, RoomKind, toJsonOptions, type lomi } from '@lomi/protocol';
import type { ModerationContext } from './context';
import { page, pageRequest } from './pages';
import type { createReports } from './reports';

export function createApiHandler(ctx: ModerationContext, reports: ReturnType<typeof createReports>) {
  const { db, rooms, pins, moderation } = ctx;

  async function pinned(request: lomi.internal.v1.ApiRequest): Promise<unknown> {
    const room = validRoom({ kind: RoomKind.ROOM_KIND_LIVE, id: request.params.id });
    await rooms.authorizeRead(room, request);
    const pin = await pins.current(room);
    return {
      room: { kind: 'ROOM_KIND_LIVE', id: room.id },
      pin: pin && chat.Pin.toObject(pin, toJsonOptions),
    };
  }

  /** The stream's moderation actions, newest first: those taken in it and those over its broadcaster's channel. */
  async function moderationLog(request: lomi.internal.v1.ApiRequest): Promise<unknown> {
    const room = validRoom({ kind: RoomKind.ROOM_KIND_LIVE, id: request.params.id });
    const facts = await rooms.authorizeRead(room, request);
    if (facts.kind !== 'live') throw new Error('a live room with other facts than live ones');
    if (!request.service) assertMayModerate(await moderation.roleOf(room, request.userId, facts), 'read the moderation log');
    const wanted = pageRequest(request.params);
    let query = db
      .selectFrom('moderation_actions')
      .selectAll()
      .where((eb) => eb.or([eb.and([eb('room_kind', '=', 'live'), eb('room_id', '=', room.id ?? '')]), eb('channel_id', '=', facts.broadcasterId)]))
      .orderBy('id', 'desc')
      .limit(wanted.limit + 1);
    if (wanted.beforeId !== undefined) query = query.where('id', '<', wanted.beforeId);
    const { rows, nextCursor } = page(await query.execute(), wanted);
    return {
      actions: rows.map((r) => ({
        id: String(r.id),
        actorId: r.actor_id,
        action: r.action,
        targetUserId: r.target_user_id,
        room: r.room_id && { kind: r.room_kind === 'private' ? 'ROOM_KIND_PRIVATE' : 'ROOM_KIND_LIVE', id: r.room_id },
        channelId: r.channel_id,
        messageSeq: int64Json(r.message_seq),
        reason: r.reason,
        createdAtMs: int64Json(r.created_at.getTime()),
        expiresAtMs: int64Json(r.expires_at?.getTime()),
      })),
      nextCursor,
    };
  }

  return createApiDispatcher({ 'live.pinned': pinned, 'live.moderationLog': moderationLog, reports: reports.list }, ctx.reject);
}
