// Readiness follows the servers each service needs: a worker's /readyz (on its METRICS_PORT) is
// 503 while its Redis, Postgres or NATS is away and 200 once it is back, and the gateway's (on
// both its ports) follows NATS. /healthz, the liveness probe, stays 200 throughout: an outage
// must take a pod out of rotation, not get it restarted.
import { startNatsServer, startPostgres, startRedisServer, waitFor, type NatsServer, type PostgresServer, type RedisServer } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let nats: NatsServer;
let redis: RedisServer;
let postgres: PostgresServer;
let system: TestSystem;

beforeAll(async () => {
  [nats, redis, postgres] = await Promise.all([startNatsServer(), startRedisServer(), startPostgres()]);
  system = await startSystem({ env: { NATS_URL: nats.url, REDIS_URL: redis.url, DATABASE_URL: postgres.url } });
});
afterAll(async () => {
  await system?.stop();
  await Promise.all([nats?.dispose(), redis?.dispose(), postgres?.dispose()]);
});

async function readyz(base: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, text: await res.text() };
}

const messageWorker = () => `http://127.0.0.1:${system.workers[0]!.metricsPort}`;
const everyService = () => [
  system.httpUrl(),
  system.metricsUrl(),
  ...[...system.workers, ...system.presenceWorkers, ...system.moderationWorkers].map((w) => `http://127.0.0.1:${w.metricsPort}`),
];

/** Waits until `base`'s /readyz answers `status`, and returns its body. */
async function readyzTurns(base: string, status: number, timeoutMs: number): Promise<string> {
  let last = { status: 0, text: '' };
  await waitFor(async () => (last = await readyz(base)).status === status, `${base}/readyz ${status}`, timeoutMs);
  return last.text;
}

async function expectAlive(bases: string[]): Promise<void> {
  for (const base of bases) expect((await fetch(`${base}/healthz`)).status).toBe(200);
}

test('every service is ready with its servers up', async () => {
  for (const base of everyService()) expect(await readyz(base)).toEqual({ status: 200, text: 'ready\n' });
});

// Postgres is probed every 2 s (a probe may take 2 s more to fail); Redis is read off its client.
test.each(['redis', 'postgres'] as const)('a message worker is not ready while its %s is down, and ready again once it is back', async (name) => {
  const server = { redis, postgres }[name];
  await server.stop();
  expect(await readyzTurns(messageWorker(), 503, 8000)).toBe(`not ready: ${name} unreachable\n`);
  await expectAlive([messageWorker()]);
  await server.start();
  await readyzTurns(messageWorker(), 200, 10_000);
});

test('no service is ready while NATS is down, and all are again once it is back', async () => {
  await nats.stop();
  for (const base of everyService()) expect(await readyzTurns(base, 503, 5000)).toContain('nats unreachable');
  await expectAlive(everyService());
  await nats.start();
  for (const base of everyService()) await readyzTurns(base, 200, 10_000);
  // Back in rotation and working: a client connects and is answered by the workers.
  const client = await system.connect(system.user('after-outage'));
  await client.join(await system.createLiveRoom(system.user('after-outage')));
});
