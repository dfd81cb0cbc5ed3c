// The moderation caches' contract (@lomi/moderation VersionedCacheStore: write-if-newer values at a
// version, per piece) against Redis and memory.
import { createVersionedCacheStore, type CachedPiece, type VersionedCacheStore } from '@lomi/moderation';
import type { HotState } from '@lomi/hot-state';
import { roomKey, RoomKind, type Room } from '@lomi/protocol';
import { hotStateImplementations, openHotState } from '@lomi/testkit';

const settingsPiece: CachedPiece<Room> = { name: 'contract-settings', id: roomKey, redisKey: (keys, room) => keys.roomSettings(room), ttlSeconds: 1 };
const sanctionsPiece: CachedPiece<Room> = { name: 'contract-sanctions', id: roomKey, redisKey: (keys, room) => keys.sanctions(room), ttlSeconds: 60 };

const text = (value: Buffer | null) => value?.toString() ?? null;

describe.each(hotStateImplementations)('versioned cache: $name', (impl) => {
  let close: () => Promise<void>;
  let states: HotState[];
  let a: VersionedCacheStore<Room>;
  let b: VersionedCacheStore<Room>;
  const room = { kind: RoomKind.ROOM_KIND_LIVE, id: 'v1' };
  const other = { kind: RoomKind.ROOM_KIND_LIVE, id: 'v2' };

  beforeEach(async () => {
    const opened = await openHotState(impl, 2);
    close = opened.close;
    states = opened.states;
    [a, b] = states.map((hot) => createVersionedCacheStore(hot, sanctionsPiece)) as [VersionedCacheStore<Room>, VersionedCacheStore<Room>];
  });
  afterEach(() => close());

  it('is empty until written; a value is one per piece, shared by every connection, bytes as written', async () => {
    expect(await a.get(room)).toBeNull();
    const bytes = Buffer.from([0, 255, 10, 0]);
    expect(await a.writeIfNewer(room, 0, bytes)).toBe(true);
    expect(await b.get(room)).toEqual(bytes);
    expect(await b.get(other)).toBeNull();
    // The same room under another kind of piece is another piece.
    expect(await createVersionedCacheStore(states[1]!, settingsPiece).get(room)).toBeNull();
  });

  it('forget drops a piece for every connection; any version may be written again', async () => {
    await a.writeIfNewer(room, 7, 'v7');
    await a.writeIfNewer(other, 1, 'kept');
    await b.forget(room);
    expect(await a.get(room)).toBeNull();
    expect(text(await a.get(other))).toBe('kept');
    expect(await a.writeIfNewer(room, 2, 'v2')).toBe(true);
    expect(text(await b.get(room))).toBe('v2');
  });

  it('an older or equal version never overwrites a newer one', async () => {
    expect(await a.writeIfNewer(room, 5, 'v5')).toBe(true);
    expect(await b.writeIfNewer(room, 3, 'stale reader')).toBe(false);
    expect(await b.writeIfNewer(room, 5, 'same version')).toBe(false);
    expect(text(await a.get(room))).toBe('v5');
    expect(await b.writeIfNewer(room, 6, 'v6')).toBe(true);
    expect(text(await a.get(room))).toBe('v6');
  });

  it('concurrent writes from several connections leave the newest version', async () => {
    const versions = Array.from({ length: 40 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    const results = await Promise.all(versions.map((v, i) => (i % 2 ? a : b).writeIfNewer(room, v, `v${v}`)));
    expect(text(await a.get(room))).toBe('v40');
    // Whatever the order, the write of the newest version lands.
    expect(results[versions.indexOf(40)]).toBe(true);
  });

  it('forgets a piece its TTL after the last write that landed; a refused write does not extend it', async () => {
    const [short, shortB] = states.map((hot) => createVersionedCacheStore(hot, settingsPiece)) as [VersionedCacheStore<Room>, VersionedCacheStore<Room>];
    await short.writeIfNewer(room, 1, 'kept');
    await short.writeIfNewer(other, 1, 'refreshed');
    await new Promise((r) => setTimeout(r, 600));
    expect(await shortB.writeIfNewer(room, 1, 'refused')).toBe(false);
    expect(await shortB.writeIfNewer(other, 2, 'refreshed again')).toBe(true);
    await new Promise((r) => setTimeout(r, 600));
    expect(await short.get(room)).toBeNull();
    expect(text(await short.get(other))).toBe('refreshed again');
    // Once forgotten, any version may fill it again (a reader's 0 included).
    expect(await shortB.writeIfNewer(room, 0, 'refilled')).toBe(true);
    expect(text(await short.get(room))).toBe('refilled');
  });
});
