// Stores keep rooms by roomKey; parseRoomKey must give back the room a key was made from.
import { roomKey, RoomKind } from '@lomi/protocol';
import { parseRoomKey } from './room-key';

describe('parseRoomKey', () => {
  it('reads back live and private rooms, ids with colons included', () => {
    for (const room of [
      { kind: RoomKind.ROOM_KIND_LIVE, id: 'stream-1' },
      { kind: RoomKind.ROOM_KIND_PRIVATE, id: 'a:b:c' },
    ]) {
      expect(parseRoomKey(roomKey(room))).toEqual(room);
    }
  });

  it('refuses a key of an unknown kind or without one', () => {
    expect(parseRoomKey(roomKey({ kind: RoomKind.ROOM_KIND_UNSPECIFIED, id: 'x' }))).toBeUndefined();
    expect(parseRoomKey('group:x')).toBeUndefined();
    expect(parseRoomKey('live')).toBeUndefined();
  });
});
