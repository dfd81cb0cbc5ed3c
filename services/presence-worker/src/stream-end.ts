// A live stream ended (the message worker's StreamEnded event): every viewer departs at once,
// no one may arrive any more, open viewing sessions are closed and the stream's peak and total
// are written one last time. No "left" messages: the room itself is closed.
import type { RoomPresenceStore } from '@lomi/presence';
import { internal, RoomKind } from '@lomi/protocol';
import { validRoom } from '@lomi/validation';
import type { PresenceContext } from './context';
import type { ViewingSessions } from './viewing-sessions';

export function createStreamEndHandler(ctx: PresenceContext, presence: RoomPresenceStore, sessions: ViewingSessions) {
  return async function handleStreamEnded(data: Uint8Array): Promise<void> {
    try {
      const room = validRoom(internal.StreamEnded.decode(data).room);
      if (room.kind !== RoomKind.ROOM_KIND_LIVE) return;
      sessions.record(await presence.end(room));
      await sessions.closeStream(room.id ?? '');
      ctx.log.info({ stream: room.id }, 'stream ended: presence closed');
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message }, 'closing the presence of an ended stream failed');
    }
  };
}
