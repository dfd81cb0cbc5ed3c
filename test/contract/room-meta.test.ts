// The room facts cache contract (@lomi/rooms RoomMetaStore) against Redis and memory.
import { createRoomMetaStore, type RoomMetaStore } from '@lomi/rooms';
import { RoomKind } from '@lomi/protocol';
import { hotStateImplementations, openHotState } from '@lomi/testkit';

describe.each(hotStateImplementations)('room meta: $name', (impl) => {
  let close: () => Promise<void>;
  let a: RoomMetaStore;
  let b: RoomMetaStore;
  const room = { kind: RoomKind.ROOM_KIND_LIVE, id: 's1' };
  const other = { kind: RoomKind.ROOM_KIND_PRIVATE, id: 's1' };

  beforeEach(async () => {
    const opened = await openHotState(impl, 2);
    close = opened.close;
    [a, b] = opened.states.map(createRoomMetaStore) as [RoomMetaStore, RoomMetaStore];
  });
  afterEach(() => close());

  it('is empty until filled, and is one value per room shared by every connection', async () => {
    expect(await a.get(room)).toBeNull();
    await a.fill(room, '{"v":1}', 60);
    expect(await b.get(room)).toBe('{"v":1}');
    expect(await b.get(other)).toBeNull();
  });

  it('fill keeps a cached value; set replaces it', async () => {
    await a.set(room, 'changed', 60);
    await b.fill(room, 'stale read', 60);
    expect(await a.get(room)).toBe('changed');
    await b.set(room, 'changed again', 60);
    expect(await a.get(room)).toBe('changed again');
  });

  it('forgets a value once its TTL has passed', async () => {
    await a.set(room, 'short', 1);
    expect(await a.get(room)).toBe('short');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await b.get(room)).toBeNull();
  });
});
