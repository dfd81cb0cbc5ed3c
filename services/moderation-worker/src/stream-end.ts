// A live stream ended (the message worker's StreamEnded event): its pin goes with it, so the
// pinned endpoint of an ended stream says "none". No push: the room is closed.
import { validRoom } from '@lomi/validation';
import { internal, RoomKind } from '@lomi/protocol';
import type { ModerationContext } from './context';

export function createStreamEndHandler(ctx: ModerationContext) {
  return async function handleStreamEnded(data: Uint8Array): Promise<void> {
    try {
      const room = validRoom(internal.StreamEnded.decode(data).room);
      if (room.kind === RoomKind.ROOM_KIND_LIVE && (await ctx.pins.clear(room))) ctx.metrics.pinChanges.inc({ change: 'unpinned' });
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message }, 'clearing the pin of an ended stream failed');
    }
  };
}
