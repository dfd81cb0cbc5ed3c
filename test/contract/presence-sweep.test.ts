// The contracts of what the presence sweeper works from (@lomi/presence) against Redis and
// memory: the work list and its lock (ActiveRoomsStore), and the join/leave digests
// (JoinLeaveDigestStore) it sends when due.
import { createActiveRoomsStore, createJoinLeaveDigestStore, type ActiveRoomsStore, type JoinLeaveDigestStore } from '@lomi/presence';
import { RoomKind } from '@lomi/protocol';
import { hotStateImplementations, openHotState } from '@lomi/testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const live = (id: string) => ({ kind: RoomKind.ROOM_KIND_LIVE, id });
const room = live('stream1');

describe.each(hotStateImplementations)('active rooms: $name', (impl) => {
  let close: () => Promise<void>;
  let a: ActiveRoomsStore;
  let b: ActiveRoomsStore;

  beforeEach(async () => {
    const opened = await openHotState(impl, 2);
    close = opened.close;
    [a, b] = opened.states.map(createActiveRoomsStore) as [ActiveRoomsStore, ActiveRoomsStore];
  });
  afterEach(() => close());

  it('lists every touched room once, private rooms too', async () => {
    const priv = { kind: RoomKind.ROOM_KIND_PRIVATE, id: 'r1' };
    await Promise.all([a.touch(room), b.touch(priv), b.touch(room)]);
    const listed = await a.list();
    expect(listed).toHaveLength(2);
    expect(listed).toEqual(expect.arrayContaining([room, priv]));
  });

  it('forgets a room only if nothing touched it since well before the sweep began', async () => {
    await a.touch(room);
    // A sweep that began now may have raced the touch (and the workers' clocks may differ).
    await b.forgetIfIdle(room, Date.now());
    expect(await b.list()).toEqual([room]);
    await b.forgetIfIdle(room, Date.now() + 60_000);
    expect(await a.list()).toEqual([]);
    await a.touch(room);
    expect(await b.list()).toEqual([room]);
  });

  it('the sweep lock is held by one at a time, until its time is up', async () => {
    const takes = await Promise.all([a.lockSweep('w1', 400), b.lockSweep('w2', 400), a.lockSweep('w3', 400), b.lockSweep('w4', 400)]);
    expect(takes.filter(Boolean)).toHaveLength(1);
    expect(await b.lockSweep('w5', 400)).toBe(false);
    await sleep(500);
    expect(await b.lockSweep('w5', 400)).toBe(true);
    expect(await a.lockSweep('w1', 400)).toBe(false);
  });
});

describe.each(hotStateImplementations)('join/leave digests: $name', (impl) => {
  let close: () => Promise<void>;
  let a: JoinLeaveDigestStore;
  let b: JoinLeaveDigestStore;
  const settings = { singlesPerInterval: 3, intervalMs: 400 };

  beforeEach(async () => {
    const opened = await openHotState(impl, 2);
    close = opened.close;
    [a, b] = opened.states.map((hot) => createJoinLeaveDigestStore(hot, settings)) as [JoinLeaveDigestStore, JoinLeaveDigestStore];
  });
  afterEach(() => close());

  it('a small room gets single messages up to the allowance, then a digest', async () => {
    expect(await a.announce(room, 'joined', 'ann', 2, true)).toBe(true);
    // Two more would pass the allowance of three: into the digest.
    expect(await b.announce(room, 'joined', 'bob', 2, true)).toBe(false);
    // While a digest gathers, even one that would fit goes into it.
    expect(await a.announce(room, 'left', 'cat', 1, true)).toBe(false);
    expect(await b.announce(room, 'joined', 'dan', 3, true)).toBe(false);
    expect(await a.take(room)).toEqual({ due: [], gathering: true });

    await sleep(settings.intervalMs + 50);
    const { due, gathering } = await b.take(room);
    expect(gathering).toBe(false);
    expect(due).toEqual([
      { kind: 'joined', firstUser: 'bob', count: 5, since: expect.any(Number) },
      { kind: 'left', firstUser: 'cat', count: 1, since: expect.any(Number) },
    ]);
    expect(await a.take(room)).toEqual({ due: [], gathering: false });
    // A new interval, a new allowance.
    expect(await a.announce(room, 'left', 'eve', 3, true)).toBe(true);
  });

  it('a big room goes into the digest at once, each room apart', async () => {
    expect(await a.announce(room, 'joined', 'ann', 1, false)).toBe(false);
    expect(await b.announce(live('stream2'), 'joined', 'bob', 1, true)).toBe(true);
    expect((await a.take(live('stream2'))).gathering).toBe(false);
  });

  it('concurrent announcements of two connections share one allowance and one digest', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).announce(room, 'joined', `u${i}`, 1, true)));
    expect(results.filter(Boolean)).toHaveLength(settings.singlesPerInterval);
    await sleep(settings.intervalMs + 50);
    const [first, second] = await Promise.all([a.take(room), b.take(room)]);
    // Exactly one of them takes the digest.
    expect([...first.due, ...second.due]).toEqual([expect.objectContaining({ kind: 'joined', count: 10 - settings.singlesPerInterval })]);
  });
});
