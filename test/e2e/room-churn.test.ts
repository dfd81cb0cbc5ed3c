// A gateway's per-room state lives only while someone is in the room: 20,000 live rooms joined
// and left, 50 at a time, through a gateway running as deployed (its own process), leave its room
// count at zero, the NATS server's subscription count where it began, and its heap near where it
// began. The message worker's per-room caches are bounded by their own limits (room facts, held
// moderation state: 10,000 rooms each).
import { retryingUnavailable, startNatsServer, spawnService, waitFor, type NatsServer, type ServiceProcess } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import type { Room } from '@lomi/client';

const ROOMS = 20_000;
const AT_ONCE = 50; // MAX_ROOMS_PER_CONNECTION

let nats: NatsServer;
let system: TestSystem;
let gateway: ServiceProcess;

beforeAll(async () => {
  nats = await startNatsServer({ monitor: true });
  system = await startSystem({ env: { NATS_URL: nats.url } });
  gateway = await spawnService('gateway', 'gateway-churn', { ...system.env, LOG_LEVEL: 'info' });
}, 120_000);
afterAll(async () => {
  await gateway?.kill();
  await system?.stop();
  await nats?.dispose();
});

async function natsSubscriptions(): Promise<number> {
  return ((await (await fetch(`${nats.monitorUrl}/subsz`)).json()) as { num_subscriptions: number }).num_subscriptions;
}

async function gatewayMetric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gateway.metricsPort}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}

// 40,000 joins and leaves, each a room's first (an epoch reserved in Postgres): about 2 minutes
// alone, 16 beside the other suites on CI, so it runs in the jest project `alone`, after them.
test('20,000 rooms joined and left leave no room state, no NATS subscription and no heap behind', async () => {
  const startedAt = Date.now();
  const rooms: Room[] = [];
  const host = system.user('churn-host');
  // 50 creates in flight, as a back end would pace them: 200 at once outwaited the workers'
  // Postgres pool (3 s) on a loaded CI machine and got a 503.
  for (let i = 0; i < ROOMS; i += AT_ONCE) rooms.push(...(await Promise.all(Array.from({ length: Math.min(AT_ONCE, ROOMS - i) }, () => system.createLiveRoom(host)))));

  const createdAt = Date.now();
  const viewer = await system.connect(system.user('churn-viewer'), { gateway });
  // A join or leave answered UNAVAILABLE (a worker's Postgres pool outwaited on a loaded machine)
  // is retried, as the protocol tells clients to; the state left behind is what is measured.
  // A first round, so the baseline includes what the first joins warm up (code, pools).
  await Promise.all(rooms.slice(0, AT_ONCE).map((room) => retryingUnavailable(() => viewer.join(room))));
  await Promise.all(rooms.slice(0, AT_ONCE).map((room) => retryingUnavailable(() => viewer.leave(room))));
  await waitFor(async () => (await gatewayMetric('lomi_gateway_rooms')) === 0, 'the warm-up rooms to be let go');
  const baseline = { subscriptions: await natsSubscriptions(), heap: await gatewayMetric('nodejs_heap_size_used_bytes') };

  let peakRooms = 0;
  for (let i = AT_ONCE; i < ROOMS; i += AT_ONCE) {
    const batch = rooms.slice(i, i + AT_ONCE);
    await Promise.all(batch.map((room) => retryingUnavailable(() => viewer.join(room))));
    if (i % 5000 === AT_ONCE) peakRooms = Math.max(peakRooms, await gatewayMetric('lomi_gateway_rooms'));
    await Promise.all(batch.map((room) => retryingUnavailable(() => viewer.leave(room))));
  }
  // Printed so a slow CI run shows which half took the time.
  console.log(
    `room churn | ${ROOMS} rooms created in ${((createdAt - startedAt) / 1000).toFixed(0)} s | joined and left in ${((Date.now() - createdAt) / 1000).toFixed(0)} s`,
  );
  expect(peakRooms).toBe(AT_ONCE);

  await waitFor(async () => (await gatewayMetric('lomi_gateway_rooms')) === 0, 'every room to be let go');
  await waitFor(async () => (await natsSubscriptions()) === baseline.subscriptions, 'the NATS subscriptions back to the baseline', 10_000);
  // Garbage may wait for the next collection: the least of a few samples.
  let heap = Infinity;
  for (let i = 0; i < 5; i++) {
    heap = Math.min(heap, await gatewayMetric('nodejs_heap_size_used_bytes'));
    await new Promise((r) => setTimeout(r, 1000));
  }
  expect(heap - baseline.heap).toBeLessThan(16 * 2 ** 20);
}, 600_000);
