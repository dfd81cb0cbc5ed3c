// The pins' hot state contract (@lomi/rooms PinStore: the pin cache and the expiry work list)
// against Redis and memory.
import { createPinStore, type PinStore } from '@lomi/rooms';
import { chat, RoomKind } from '@lomi/protocol';
import { hotStateImplementations, openHotState } from '@lomi/testkit';

const pin = (content: string) =>
  chat.Pin.create({ message: chat.ChatMessage.create({ id: `m-${content}`, content }), pinnedBy: 'mod', pinnedAtMs: 1_000, expiresAtMs: 61_000 });
const contentOf = (value: Awaited<ReturnType<PinStore['cached']>>) => (value ? value.message?.content : value);

describe.each(hotStateImplementations)('pins: $name', (impl) => {
  let close: () => Promise<void>;
  let a: PinStore;
  let b: PinStore;
  const room = { kind: RoomKind.ROOM_KIND_LIVE, id: 'p1' };
  const other = { kind: RoomKind.ROOM_KIND_LIVE, id: 'p2' };

  beforeEach(async () => {
    const opened = await openHotState(impl, 2);
    close = opened.close;
    [a, b] = opened.states.map(createPinStore) as [PinStore, PinStore];
  });
  afterEach(() => close());

  it('caches a pin, or "no pin", per room for every connection; nothing cached is undefined', async () => {
    expect(await a.cached(room)).toBeUndefined();
    await a.cache(room, pin('hello'), 60_000, false);
    await a.cache(other, null, 60_000, false);
    const cached = await b.cached(room);
    expect(cached?.message?.content).toBe('hello');
    expect(Number(cached?.expiresAtMs)).toBe(61_000);
    expect(await b.cached(other)).toBeNull();
  });

  it('a reader filling the cache never undoes a writer; a writer replaces what is cached', async () => {
    await a.cache(room, pin('new'), 60_000, false);
    await b.cache(room, null, 60_000, true);
    expect(contentOf(await a.cached(room))).toBe('new');
    await b.cache(room, null, 60_000, false);
    expect(await a.cached(room)).toBeNull();
  });

  it('forget drops the cached pin (or "no pin") for every connection', async () => {
    await a.cache(room, null, 60_000, false);
    await b.forget(room);
    expect(await a.cached(room)).toBeUndefined();
  });

  it('forgets a cached pin once its TTL has passed', async () => {
    await a.cache(room, pin('short'), 300, false);
    expect(contentOf(await b.cached(room))).toBe('short');
    await new Promise((r) => setTimeout(r, 400));
    expect(await b.cached(room)).toBeUndefined();
    // Expired is empty: a reader may fill it again.
    await b.cache(room, null, 60_000, true);
    expect(await a.cached(room)).toBeNull();
  });

  it('the work list returns only what is due, earliest first, up to the limit, and keeps it listed', async () => {
    await a.scheduleExpiry('late', 3_000);
    await b.scheduleExpiry('first', 1_000);
    await a.scheduleExpiry('second-b', 2_000);
    await b.scheduleExpiry('second-a', 2_000);
    expect(await a.due(999, 10)).toEqual([]);
    expect(await a.due(2_000, 10)).toEqual(['first', 'second-a', 'second-b']);
    expect(await b.due(2_000, 2)).toEqual(['first', 'second-a']);
    expect(await b.due(2_000, 10)).toEqual(['first', 'second-a', 'second-b']);
  });

  it('a re-pin moves the expiry, a cancel removes it', async () => {
    await a.scheduleExpiry('r', 1_000);
    await b.scheduleExpiry('r', 5_000);
    expect(await a.due(2_000, 10)).toEqual([]);
    expect(await a.due(5_000, 10)).toEqual(['r']);
    await b.cancelExpiry('r');
    expect(await a.due(10_000, 10)).toEqual([]);
  });

  it('removeIfDue keeps an id whose expiry a re-pin moved later since it was read', async () => {
    await a.scheduleExpiry('expired', 1_000);
    await a.scheduleExpiry('repinned', 1_500);
    const due = await a.due(2_000, 10);
    expect(due).toEqual(['expired', 'repinned']);
    await b.scheduleExpiry('repinned', 9_000);
    await a.removeIfDue([...due, 'never-listed'], 2_000);
    expect(await b.due(10_000, 10)).toEqual(['repinned']);
  });

  it('concurrent re-pins and sweeps of many rooms leave exactly the re-pinned ones listed', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `room-${String(i).padStart(2, '0')}`);
    await Promise.all(ids.map((id) => a.scheduleExpiry(id, 1_000)));
    const due = await a.due(2_000, 100);
    expect(due).toEqual(ids);
    const repinned = ids.filter((_, i) => i % 3 === 0);
    await Promise.all([...repinned.map((id) => b.scheduleExpiry(id, 9_000)), a.removeIfDue(due.slice(0, 20), 2_000), b.removeIfDue(due.slice(20), 2_000)]);
    // A re-pin that landed before the removal survives it; one after it lists the id anew: either way it stays.
    expect(await a.due(10_000, 100)).toEqual(repinned);
  });
});
