// Who is in a live room, as the embedded system keeps it (the Redis script's semantics): a user
// counts once however many gateways hold them, reports may arrive late or out of order, a
// silent gateway's viewers expire, and a changed count is published at a bounded pace.
import { MemoryNamespace } from '@lomi/hot-state';
import { RoomKind, type Room } from '@lomi/protocol';
import type { PresenceReport, ViewerPushPolicy } from './room-presence';
import { createMemoryRoomPresence } from './room-presence-memory';

const room: Room = { kind: RoomKind.ROOM_KIND_LIVE, id: 'stream-1' };
const TTL = 30_000;

let clock: number;
let memory: MemoryNamespace;

function setUp(policy: ViewerPushPolicy = { intervalMs: 1000, deliveriesPerS: 1_000_000, intervalMaxMs: 10_000 }) {
  clock = 1_700_000_000_000;
  memory = new MemoryNamespace('test', 'incarnation-1', () => clock);
  return createMemoryRoomPresence(memory, policy);
}

afterEach(() => memory.clear());

const report = (gatewayId: string, sentAtMs = clock): PresenceReport => ({ gatewayId, ttlMs: TTL, sentAtMs });
const ids = (sessions: { userId: string }[]) => sessions.map((s) => s.userId);

describe('memory room presence: sessions', () => {
  it('counts a user on two gateways once, arriving with the first entry and departing with the last', async () => {
    const presence = setUp();
    const joined = await presence.add(room, report('gw1'), ['alice']);
    expect(joined).toMatchObject({ count: 1, everCount: 1, arrivals: [{ userId: 'alice', since: clock }], departures: [] });
    expect(await presence.add(room, report('gw2'), ['alice'])).toMatchObject({ count: 1, arrivals: [] });
    expect(await presence.remove(room, report('gw1'), ['alice'])).toMatchObject({ count: 1, departures: [] });
    const since = clock;
    clock += 5000;
    expect(await presence.remove(room, report('gw2'), ['alice'])).toMatchObject({ count: 0, departures: [{ userId: 'alice', since }] });
    expect(await presence.count(room)).toBe(0);
  });

  it('starts a new session when a user comes back, and counts them once in the distinct total', async () => {
    const presence = setUp();
    await presence.add(room, report('gw1'), ['alice', 'bob']);
    await presence.remove(room, report('gw1'), ['alice']);
    clock += 1000;
    const back = await presence.add(room, report('gw1'), ['alice']);
    expect(back).toMatchObject({ count: 2, peak: 2, everCount: 2, arrivals: [{ userId: 'alice', since: clock }] });
    expect(await presence.counted(room, ['alice', 'carol'])).toEqual([true, false]);
  });

  it("expires a silent gateway's viewers, while heartbeats keep the others", async () => {
    const presence = setUp();
    await presence.add(room, report('gw1'), ['alice']);
    await presence.add(room, report('gw2'), ['bob']);
    clock += 20_000;
    await presence.add(room, report('gw2'), ['bob']);
    clock += TTL - 20_000;
    const swept = await presence.sweep(room);
    expect([ids(swept.departures), swept.count]).toEqual([['alice'], 1]);
  });

  it('never lets a late report shorten an expiry a newer one set', async () => {
    const presence = setUp();
    await presence.add(room, report('gw1'), ['alice']);
    await presence.add(room, report('gw1', clock - 20_000), ['alice']);
    clock += TTL - 1;
    expect((await presence.sweep(room)).count).toBe(1);
  });

  it('keeps a user gone whose leave was sent after the join that arrives late', async () => {
    const presence = setUp();
    await presence.remove(room, report('gw1', clock - 1000), ['alice']);
    expect(await presence.add(room, report('gw1', clock - 2000), ['alice'])).toMatchObject({ count: 0, arrivals: [] });
    // A join sent in the same millisecond as the leave does not undo it either.
    expect(await presence.add(room, report('gw1', clock - 1000), ['alice'])).toMatchObject({ count: 0, arrivals: [] });
    expect(await presence.add(room, report('gw1', clock), ['alice'])).toMatchObject({ count: 1 });
  });

  it('ignores a leave older than the report that refreshed the entry', async () => {
    const presence = setUp();
    await presence.add(room, report('gw1'), ['alice']);
    expect(await presence.remove(room, report('gw1', clock - 1), ['alice'])).toMatchObject({ count: 1, departures: [] });
  });

  it('ignores a report that expired on its way', async () => {
    const presence = setUp();
    expect(await presence.add(room, report('gw1', clock - TTL), ['alice'])).toMatchObject({ count: 0, arrivals: [] });
  });

  it('ends a stream: everyone departs, nobody arrives any more, the peak stays', async () => {
    const presence = setUp();
    await presence.add(room, report('gw1'), ['alice', 'bob']);
    const ended = await presence.end(room);
    expect([ids(ended.departures).sort(), ended.count, ended.peak, ended.push]).toEqual([['alice', 'bob'], 0, 2, false]);
    expect(await presence.add(room, report('gw1'), ['carol'])).toMatchObject({ count: 0, arrivals: [] });
  });
});

describe('memory room presence: count pushes', () => {
  it('publishes a changed count at most once per interval; a sweep publishes what was held back', async () => {
    const presence = setUp();
    expect((await presence.add(room, report('gw1'), ['a'])).push).toBe(true);
    clock += 100;
    expect((await presence.add(room, report('gw1'), ['b'])).push).toBe(false);
    clock += 900;
    expect(await presence.sweep(room)).toMatchObject({ count: 2, push: true });
    clock += 5000;
    expect((await presence.sweep(room)).push).toBe(false);
  });

  it("stretches a big room's interval with its count, up to the maximum", async () => {
    const presence = setUp({ intervalMs: 1000, deliveriesPerS: 10, intervalMaxMs: 8000 });
    const many = Array.from({ length: 50 }, (_, i) => `u${i}`);
    expect((await presence.add(room, report('gw1'), many)).push).toBe(true);
    clock += 4999;
    expect((await presence.add(room, report('gw1'), ['x'])).push).toBe(false);
    clock += 101; // 51 viewers: 5.1 s
    expect((await presence.sweep(room)).push).toBe(true);
    await presence.add(
      room,
      report('gw1'),
      Array.from({ length: 500 }, (_, i) => `v${i}`),
    );
    clock += 7999;
    expect((await presence.sweep(room)).push).toBe(false);
    clock += 1;
    expect((await presence.sweep(room)).push).toBe(true);
  });
});
