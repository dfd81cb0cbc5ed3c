// Read-only HTTP calls forwarded by gateways: GET /api/v1/live/:id/pinned. Whoever may join the
// stream (or the app back end) may read its pin.
import { createApiDispatcher, validRoom } from '@lomi/common';
import { chat, RoomKind, type lomi, type ProtocolError } from '@lomi/protocol';
import type { ModerationContext } from './context';

export function createApiHandler(ctx: ModerationContext, reject: (op: string, err: unknown) => ProtocolError) {
  async function pinned(request: lomi.internal.v1.ApiRequest): Promise<unknown> {
    const room = validRoom({ kind: RoomKind.ROOM_KIND_LIVE, id: request.params.id });
    await ctx.rooms.authorizeRead(room, request);
    const pin = await ctx.pins.current(room);
    return {
      room: { kind: 'ROOM_KIND_LIVE', id: room.id },
      pin: pin && chat.Pin.toObject(pin, { longs: Number, enums: String }),
    };
  }

  return createApiDispatcher({ 'live.pinned': pinned }, reject);
}
