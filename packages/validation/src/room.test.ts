import { ROOM_ID_PATTERN, RoomKind } from '@lomi/protocol';
import { randomId } from './ids';
import { roomProblem, validRoom, validRoomId } from './room';

test('a valid room is kept with only its kind and id', () => {
  const room = { kind: RoomKind.ROOM_KIND_PRIVATE, id: 'a_b-C9', extra: 1 } as never;
  expect(validRoom(room)).toEqual({ kind: RoomKind.ROOM_KIND_PRIVATE, id: 'a_b-C9' });
});

test('one rule names what is wrong with a room', () => {
  expect(roomProblem(undefined)).toBe('room is required');
  expect(roomProblem({ kind: RoomKind.ROOM_KIND_UNSPECIFIED, id: 'x' })).toBe('room kind must be LIVE or PRIVATE');
  expect(roomProblem({ kind: RoomKind.ROOM_KIND_LIVE, id: '' })).toBe('room id must be 1–64 characters of A-Z a-z 0-9 _ -');
  expect(roomProblem({ kind: RoomKind.ROOM_KIND_LIVE, id: 'a.b' })).toBe('room id must be 1–64 characters of A-Z a-z 0-9 _ -');
  expect(roomProblem({ kind: RoomKind.ROOM_KIND_LIVE, id: 'x'.repeat(65) })).toBeDefined();
  expect(() => validRoom({ kind: RoomKind.ROOM_KIND_LIVE, id: 'a b' })).toThrow('room id must be');
});

test('random ids are distinct, 22 characters for 16 bytes, and usable as room ids', () => {
  const ids = Array.from({ length: 1000 }, () => randomId());
  expect(new Set(ids).size).toBe(1000);
  expect(ids.every((id) => id.length === 22 && ROOM_ID_PATTERN.test(id))).toBe(true);
  expect(randomId(3)).toHaveLength(4);
});

test('a room id given on its own is checked by the same rule, naming its field', () => {
  expect(validRoomId('stream id', 'live-1')).toBe('live-1');
  expect(() => validRoomId('stream_id', 'a/b')).toThrow('stream_id must be 1–64 characters of A-Z a-z 0-9 _ -');
  expect(() => validRoomId('stream id', undefined)).toThrow('stream id must be');
});
