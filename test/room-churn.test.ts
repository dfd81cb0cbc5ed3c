// A gateway's per-room state lives only while someone is in the room: 20,000 live rooms joined
// and left, 50 at a time, through a gateway running as deployed (its own process), leave its room
// count at zero, the NATS server's subscription count where it began, and its heap near where it
// began. The message worker's per-room caches are bounded by their own limits (room facts, held
// moderation state: 10,000 rooms each).
import { startNatsServer, spawnService, startSystem, waitFor, type NatsServer, type ServiceProcess, type TestSystem } from '@lomi/testkit';
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

test('20,000 rooms joined and left leave no room state, no NATS subscription and no heap behind', async () => {
  const rooms: Room[] = [];
  const host = system.user('churn-host');
  for (let i = 0; i < ROOMS; i += 200) rooms.push(...(await Promise.all(Array.from({ length: Math.min(200, ROOMS - i) }, () => system.createLiveRoom(host)))));

  const viewer = await system.connect(system.user('churn-viewer'), { gateway });
  // A first round, so the baseline includes what the first joins warm up (code, pools).
  await Promise.all(rooms.slice(0, AT_ONCE).map((room) => viewer.join(room)));
  await Promise.all(rooms.slice(0, AT_ONCE).map((room) => viewer.leave(room)));
  await waitFor(async () => (await gatewayMetric('lomi_gateway_rooms')) === 0, 'the warm-up rooms to be let go');
  const baseline = { subscriptions: await natsSubscriptions(), heap: await gatewayMetric('nodejs_heap_size_used_bytes') };

  let peakRooms = 0;
  for (let i = AT_ONCE; i < ROOMS; i += AT_ONCE) {
    const batch = rooms.slice(i, i + AT_ONCE);
    await Promise.all(batch.map((room) => viewer.join(room)));
    if (i % 5000 === AT_ONCE) peakRooms = Math.max(peakRooms, await gatewayMetric('lomi_gateway_rooms'));
    await Promise.all(batch.map((room) => viewer.leave(room)));
  }
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
