// The room presence contract (@lomi/presence RoomPresenceStore, read by PresenceReader) against
// Redis and memory: entries per user per gateway with expiries, distinct viewers, out-of-order
// reports, coalesced pushes.
import { createPresenceReader, createRoomPresenceStore, USERS_PER_SCRIPT, type PresenceChange, type PresenceReader, type RoomPresenceStore } from '@lomi/presence';
import { RoomKind } from '@lomi/protocol';
import { hotStateImplementations, openHotState } from '@lomi/testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const users = (changes: PresenceChange[], side: 'arrivals' | 'departures') => changes.flatMap((c) => c[side].map((s) => s.userId)).sort();

describe.each(hotStateImplementations)('room presence: $name', (impl) => {
  let close: () => Promise<void>;
  let a: RoomPresenceStore;
  let b: RoomPresenceStore;
  let reader: PresenceReader;
  const room = { kind: RoomKind.ROOM_KIND_LIVE, id: 'stream1' };
  const policy = { intervalMs: 300, deliveriesPerS: 1000, intervalMaxMs: 10_000 };
  const report = (gatewayId: string, ttlMs = 5000, sentAtMs = Date.now()) => ({ gatewayId, ttlMs, sentAtMs });

  beforeEach(async () => {
    const opened = await openHotState(impl, 2);
    close = opened.close;
    a = createRoomPresenceStore(opened.states[0]!, policy);
    b = createRoomPresenceStore(opened.states[1]!, policy);
    reader = createPresenceReader({ hot: opened.states[1]! });
  });
  afterEach(() => close());

  it('counts a user on two gateways once, and they leave when both gateways have left', async () => {
    const joined = await a.add(room, report('g1'), ['ann', 'bob']);
    expect(joined).toMatchObject({ count: 2, peak: 2, everCount: 2, push: true });
    expect(users([joined], 'arrivals')).toEqual(['ann', 'bob']);
    const second = await b.add(room, report('g2'), ['ann']);
    expect(second).toMatchObject({ count: 2, arrivals: [] });

    const oneLeft = await a.remove(room, report('g1'), ['ann']);
    expect(oneLeft).toMatchObject({ count: 2, departures: [] });
    expect(await reader.counted(room, ['ann', 'bob', 'cat'])).toEqual([true, true, false]);

    const bothLeft = await b.remove(room, report('g2'), ['ann']);
    expect(bothLeft.count).toBe(1);
    expect(bothLeft.departures).toEqual([{ userId: 'ann', since: joined.arrivals.find((s) => s.userId === 'ann')!.since }]);
    expect(await reader.viewerCount(room)).toBe(1);
    expect(await reader.counted(room, ['ann'])).toEqual([false]);
    expect((await a.sweep(room)).everCount).toBe(2);
  });

  it('an older leave report cannot undo a newer join, nor an older heartbeat a newer leave', async () => {
    const t = Date.now();
    await a.add(room, report('g1', 5000, t), ['ann']);
    // The leave was reported before the join was: it arrives late and changes nothing.
    expect(await b.remove(room, report('g1', 5000, t - 100), ['ann'])).toMatchObject({ count: 1, departures: [] });

    expect((await a.remove(room, report('g1', 5000, t + 100), ['ann'])).count).toBe(0);
    // A heartbeat sent before that leave, processed after it, does not bring her back.
    expect(await b.add(room, report('g1', 5000, t + 50), ['ann'])).toMatchObject({ count: 0, arrivals: [] });
    // One sent after it does.
    expect((await b.add(room, report('g1', 5000, t + 200), ['ann'])).count).toBe(1);
  });

  it('expires entries whose heartbeats stopped, and a late report never shortens an expiry', async () => {
    const t = Date.now();
    const joined = await a.add(room, report('g1', 400, t), ['ann', 'bob']);
    await a.add(room, report('g1', 800, t), ['bob']);
    // Older than the report before it: bob's expiry stays t + 800.
    await b.add(room, report('g1', 400, t - 200), ['bob']);
    // A report whose TTL is already over adds nobody.
    expect(await b.add(room, report('g2', 100, t - 1000), ['cat'])).toMatchObject({ count: 2, arrivals: [] });

    await sleep(500);
    const swept = await b.sweep(room);
    expect(swept.count).toBe(1);
    expect(swept.departures).toEqual([{ userId: 'ann', since: joined.arrivals[0]!.since }]);
    expect(await reader.counted(room, ['ann', 'bob'])).toEqual([false, true]);

    await sleep(400);
    expect(await a.sweep(room)).toMatchObject({ count: 0, departures: [{ userId: 'bob' }] });
  });

  it('keeps counts exact under concurrent reports of two connections', async () => {
    const crowd = Array.from({ length: 60 }, (_, i) => `u${i}`);
    const joins = await Promise.all(crowd.flatMap((user, i) => [a.add(room, report('g1'), [user]), b.add(room, report(i % 2 ? 'g2' : 'g3'), [user])]));
    expect(users(joins, 'arrivals')).toEqual([...crowd].sort());
    expect(await reader.viewerCount(room)).toBe(60);

    const leaves = await Promise.all(crowd.flatMap((user, i) => [b.remove(room, report('g1'), [user]), a.remove(room, report(i % 2 ? 'g2' : 'g3'), [user])]));
    expect(users(leaves, 'departures')).toEqual([...crowd].sort());
    expect(await reader.viewerCount(room)).toBe(0);
    expect(await a.sweep(room)).toMatchObject({ count: 0, peak: 60, everCount: 60 });
  });

  it('counts a crowd larger than one script run exactly, with a single push', async () => {
    const crowd = Array.from({ length: USERS_PER_SCRIPT + 10 }, (_, i) => `c${i}`);
    const joined = await a.add(room, report('g1'), crowd);
    expect(joined).toMatchObject({ count: crowd.length, peak: crowd.length, push: true });
    expect(joined.arrivals).toHaveLength(crowd.length);
    const left = await b.remove(room, report('g1'), crowd.slice(5));
    expect(left.count).toBe(5);
    expect(left.departures).toHaveLength(crowd.length - 5);
  });

  it('publishes a count once, at most once per interval, and a held-back count on a later sweep', async () => {
    expect((await a.add(room, report('g1'), ['ann'])).push).toBe(true);
    expect((await b.add(room, report('g1'), ['bob'])).push).toBe(false);
    expect((await a.sweep(room)).push).toBe(false);
    await sleep(policy.intervalMs + 50);
    expect(await b.sweep(room)).toMatchObject({ count: 2, push: true });
    await sleep(policy.intervalMs + 50);
    // Nothing new to say.
    expect((await a.sweep(room)).push).toBe(false);
  });

  it('ending the stream departs everyone and admits no one after', async () => {
    await a.add(room, report('g1'), ['ann']);
    await a.add(room, report('g2'), ['ann', 'bob']);
    const ended = await b.end(room);
    expect(ended).toMatchObject({ count: 0, peak: 2, push: false });
    expect(users([ended], 'departures')).toEqual(['ann', 'bob']);
    expect(await a.add(room, report('g1'), ['cat'])).toMatchObject({ count: 0, arrivals: [], push: false });
    expect(await reader.viewerCount(room)).toBe(0);
  });

  it('keeps rooms apart', async () => {
    await a.add(room, report('g1'), ['ann']);
    expect(await reader.viewerCount({ kind: RoomKind.ROOM_KIND_LIVE, id: 'stream2' })).toBe(0);
  });
});
