import { internal, type lomi, type Room } from '@lomi/protocol';
import type { ModerationContext } from './context';

/** Pushes the room's new pin to everyone in it; without `pin`, that it has none any more. */
export function publishPin(ctx: ModerationContext, room: Room, pin?: lomi.chat.v1.IPin): void {
  ctx.bus.publish(ctx.subjects.room(room), internal.RoomEvent.encode({ pin: { room, pin } }).finish());
}
