import { RoomKind, roomKey, roomKindName, roomKindOfName, roomKindOfToken, roomKindToken } from './index';

test('subjects and Redis keys spell a private room "dm"; records, logs and roomKey spell it "private"', () => {
  expect(roomKindToken(RoomKind.ROOM_KIND_LIVE)).toBe('live');
  expect(roomKindToken(RoomKind.ROOM_KIND_PRIVATE)).toBe('dm');
  expect(roomKindName(RoomKind.ROOM_KIND_PRIVATE)).toBe('private');
  expect(roomKey({ kind: RoomKind.ROOM_KIND_PRIVATE, id: 'a-b' })).toBe('private:a-b');
  expect(roomKindToken(RoomKind.ROOM_KIND_UNSPECIFIED)).toBeUndefined();
});

test('each spelling reads back to its kind, and nothing else does', () => {
  for (const kind of [RoomKind.ROOM_KIND_LIVE, RoomKind.ROOM_KIND_PRIVATE]) {
    expect(roomKindOfToken(roomKindToken(kind)!)).toBe(kind);
    expect(roomKindOfName(roomKindName(kind)!)).toBe(kind);
  }
  expect(roomKindOfToken('private')).toBeUndefined();
  expect(roomKindOfName('dm')).toBeUndefined();
  expect(roomKindOfName('toString')).toBeUndefined();
});
