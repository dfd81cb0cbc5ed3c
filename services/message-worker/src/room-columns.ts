// How a room is named in Postgres: every table keyed by room has these two columns.
import type { RoomKindName } from '@lomi/db';
import { roomKindName, type Room } from '@lomi/protocol';

export function roomKindColumn(room: Room): RoomKindName {
  const name = roomKindName(room.kind);
  if (!name) throw new TypeError(`room without a kind: ${JSON.stringify(room)}`);
  return name;
}

export function roomColumns(room: Room): { room_kind: RoomKindName; room_id: string } {
  return { room_kind: roomKindColumn(room), room_id: room.id ?? '' };
}
