// Client commands the gateways route to the presence workers: `typing` (SetTyping).
import { createCommandDispatcher } from '@lomi/dispatch';
import { badRequest } from '@lomi/errors';
import { validRoom } from '@lomi/validation';
import type { Histogram } from 'prom-client';
import { RoomKind, type lomi, type ProtocolError, type ServerFrame } from '@lomi/protocol';
import type { Rooms } from '@lomi/rooms';
import type { Typing } from './typing';

export function createCommandHandler(
  typing: Typing,
  rooms: Rooms,
  reject: (op: string, err: unknown) => ProtocolError,
  commandSeconds: Histogram<'command' | 'outcome'>,
) {
  async function setTyping(request: lomi.internal.v1.CommandRequest, cmd: lomi.chat.v1.ISetTyping): Promise<ServerFrame> {
    const room = validRoom(cmd.room);
    // Stream Chat drops typing events above ~100 watchers for good reason: in a live room they
    // would multiply by every viewer. Private rooms only.
    if (room.kind !== RoomKind.ROOM_KIND_PRIVATE) throw badRequest('typing events are for private rooms');
    // Members only, by the same rule and answer as every other command (room facts, @lomi/rooms).
    await rooms.authorize(room, request.userId, 'history');
    await typing.set(room, request.userId, request.connectionId, Boolean(cmd.typing));
    return { ok: {} };
  }

  return createCommandDispatcher(
    async (request) => {
      const { userId, frame } = request;
      if (!frame) throw badRequest('frame is required');
      if (!userId) throw badRequest('user_id is required');
      if (frame.command !== 'typing') throw badRequest(`the presence worker does not handle ${frame.command ?? 'an empty'} command`);
      return setTyping(request, frame.typing!);
    },
    reject,
    commandSeconds,
  );
}
