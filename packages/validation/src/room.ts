import { badRequest } from '@lomi/errors';
import { ROOM_ID_PATTERN, RoomKind, type Room } from '@lomi/protocol';

const ROOM_ID_RULE = 'must be 1–64 characters of A-Z a-z 0-9 _ -';

/** Why `room` is not a room a request may name, or undefined: the one rule of gateways and workers. */
export function roomProblem(room: Room | null | undefined): string | undefined {
  if (!room) return 'room is required';
  if (room.kind !== RoomKind.ROOM_KIND_LIVE && room.kind !== RoomKind.ROOM_KIND_PRIVATE) return 'room kind must be LIVE or PRIVATE';
  if (!ROOM_ID_PATTERN.test(room.id ?? '')) return `room id ${ROOM_ID_RULE}`;
  return undefined;
}

/** A room id given on its own (a stream id), or BAD_REQUEST naming `field`. */
export function validRoomId(field: string, value: string | null | undefined): string {
  if (!ROOM_ID_PATTERN.test(value ?? '')) throw badRequest(`${field} ${ROOM_ID_RULE}`);
  return value!;
}

/** The room of a request, checked and stripped of anything but kind and id; BAD_REQUEST otherwise. */
export function validRoom(room: Room | null | undefined): Room {
  const problem = roomProblem(room);
  if (problem) throw badRequest(problem);
  return { kind: room!.kind, id: room!.id };
}
