// Read-only HTTP calls forwarded by gateways: GET /api/v1/live/:id/viewers. Viewer counts of a
// live stream are public, so any authenticated caller (user or service) may read them.
import { createApiDispatcher } from '@lomi/dispatch';
import { RequestError } from '@lomi/errors';
import { validRoom } from '@lomi/validation';
import type { RoomPresenceStore } from '@lomi/presence';
import { chat, ErrorCode, RoomKind, toJsonOptions, type lomi, type ProtocolError } from '@lomi/protocol';
import type { PresenceContext } from './context';
import type { ApplyChange } from './viewer-changes';

export function createApiHandler(ctx: PresenceContext, presence: RoomPresenceStore, apply: ApplyChange, reject: (op: string, err: unknown) => ProtocolError) {
  async function viewers(request: lomi.internal.v1.ApiRequest): Promise<unknown> {
    const room = validRoom({ kind: RoomKind.ROOM_KIND_LIVE, id: request.params.id });
    const stream = await ctx.db
      .selectFrom('live_streams')
      .select('peak_viewers')
      .where('id', '=', room.id ?? '')
      .executeTakeFirst();
    if (!stream) throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, 'no such live stream');
    // A sweep first, so the count is exact even between two sweeper passes.
    const change = await presence.sweep(room);
    await apply(change);
    // The hot state forgets an idle room's peak after a day; Postgres keeps it.
    const peak = Math.max(change.peak, stream.peak_viewers);
    return chat.ViewerCount.toObject(chat.ViewerCount.create({ room, count: change.count, peak }), toJsonOptions);
  }

  return createApiDispatcher({ 'live.viewers': viewers }, reject);
}
