// How a room is named in Postgres: every table keyed by room has these two columns.
import type { RoomKindName } from '@lomi/db';
import { roomKindName, type Room } from '@lomi/protocol';

/** A message that cannot be a row of `messages` (no room kind, no message kind). */
export class UnstorableMessageError extends TypeError {
  override name = 'UnstorableMessageError';
}

export function roomKindColumn(room: Room): RoomKindName {
  const name = roomKindName(room.kind);
  if (!name) throw new UnstorableMessageError(`room without a kind: ${JSON.stringify(room)}`);
  return name;
}

export function roomColumns(room: Room): { room_kind: RoomKindName; room_id: string } {
  return { room_kind: roomKindColumn(room), room_id: room.id ?? '' };
}
