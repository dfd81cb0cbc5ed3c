// Every viewer-count push goes to every viewer of the room, so a big room gets its count less
// often: no faster than VIEWER_PUSH_INTERVAL_MS, and no faster than VIEWER_PUSH_DELIVERIES_PER_S
// allows for its size, but at least every VIEWER_PUSH_INTERVAL_MAX_MS while the count changes.
import { loadPresenceWorkerConfig } from '@lomi/presence-worker';
import { DEFAULT_URLS } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

const SHORTEST_MS = 200;
/** 5 deliveries/s: 2 viewers may be told every 400 ms, 8 viewers every 1.6 s, 12 every 2 s (the longest). */
const DELIVERIES_PER_S = 5;
const LONGEST_MS = 2000;
let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({
    gateways: 2,
    env: {
      PRESENCE_SWEEP_MS: '100',
      VIEWER_PUSH_INTERVAL_MS: String(SHORTEST_MS),
      VIEWER_PUSH_DELIVERIES_PER_S: String(DELIVERIES_PER_S),
      VIEWER_PUSH_INTERVAL_MAX_MS: String(LONGEST_MS),
    },
  });
});
afterAll(() => system.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Gaps between consecutive arrivals; a push may reach the watcher up to a few ms early or late. */
const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);
const JITTER_MS = 60;

test("a small room is told its new count within a fraction of a big room's interval", async () => {
  const room = await system.createLiveRoom(system.user('caster-small'));
  const watcher = await system.connect(system.user('small-watcher'), { gateway: 0 });
  await watcher.join(room);
  const guest = await system.connect(system.user('small-guest'), { gateway: 1 });
  const pushes = system.pushes(watcher);
  const mark = pushes.mark();
  const joinedAt = performance.now();
  await guest.join(room);
  await pushes.waitFor('viewers', (v) => Number(v.count) === 2, { after: mark, timeoutMs: 3000 });
  // 2 viewers × 1000 / 5 = 400 ms at most since the last push, then a sweep (100 ms) at most:
  // well under the 1.6 s a room of 8 waits below.
  expect(performance.now() - joinedAt).toBeLessThan(1000);
  await Promise.all([watcher.close(), guest.close()]);
});

test('a bigger room is told less often, and always of its latest count within the longest interval', async () => {
  const room = await system.createLiveRoom(system.user('caster-big'));
  const crowd = await Promise.all(Array.from({ length: 12 }, (_, i) => system.connect(system.user(`big${i}`), { gateway: i % 2 })));
  const watcher = crowd[0]!;
  const pushes = system.pushes(watcher);
  for (const viewer of crowd) {
    await viewer.join(room);
    await sleep(50);
  }
  await pushes.waitFor('viewers', (v) => Number(v.count) === 12, { timeoutMs: 3 * LONGEST_MS });
  // Leaves every 150 ms: the count changes far more often than a 10–12-viewer room may be told.
  const mark = pushes.mark();
  for (const viewer of crowd.slice(8)) {
    await viewer.close();
    await sleep(150);
  }
  const lastChange = performance.now();
  await pushes.waitFor('viewers', (v) => Number(v.count) === 8, { after: mark, timeoutMs: LONGEST_MS + 1500 });
  // The room's final count arrived within the longest interval (and a sweep) of its last change.
  expect(performance.now() - lastChange).toBeLessThan(LONGEST_MS + 500);

  const counts = pushes.of('viewers').map((v) => Number(v.count));
  const spacing = gaps(pushes.arrivalsOf('viewers'));
  // A push of a count of 8–12 viewers comes at least 8 × 1000 / 5 = 1.6 s after the one before
  // it, never the 200 ms a small room gets; smaller counts, while the room filled, came sooner.
  const bigRoomGaps = spacing.filter((_, i) => counts[i + 1]! >= 8);
  expect(bigRoomGaps.length).toBeGreaterThan(0);
  for (const gap of bigRoomGaps) expect(gap).toBeGreaterThanOrEqual(1600 - JITTER_MS);
  await Promise.all(crowd.slice(0, 8).map((c) => c.close()));
});

test('a longest interval shorter than the shortest is refused at start', () => {
  expect(() => loadPresenceWorkerConfig({ ...DEFAULT_URLS, VIEWER_PUSH_INTERVAL_MS: '5000', VIEWER_PUSH_INTERVAL_MAX_MS: '1000' })).toThrow(
    /VIEWER_PUSH_INTERVAL_MAX_MS="1000": must be at least VIEWER_PUSH_INTERVAL_MS/,
  );
});
