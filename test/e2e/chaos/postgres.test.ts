// Issue 23 — the durable record going away: Postgres down for 20 s under traffic, and Postgres
// down while Redis restarts (with ACK_DURABILITY=postgres, nothing acked may be lost even then).
import { runExperiment, startChaosServers, type ChaosServers } from '@lomi/testkit';

let servers: ChaosServers;
beforeAll(async () => {
  servers = await startChaosServers();
});
afterAll(() => servers?.dispose());

const outage = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('Postgres down for 20 s under traffic: everything acked is stored once it is back', async () => {
  const outcome = await runExperiment('Postgres down 20 s', servers, {}, async ({ faultEnded }) => {
    await servers.postgres.stop();
    // The fault's length: Postgres stays down this long.
    await outage(20_000);
    await servers.postgres.start();
    faultEnded();
  });
  expect(outcome.failures()).toEqual([]);
}, 120_000);

test('Postgres down with a Redis restart during the outage (ACK_DURABILITY=postgres): nothing acked lost', async () => {
  const options = { topology: { messageWorkerEnv: { ACK_DURABILITY: 'postgres' } } };
  const outcome = await runExperiment('Postgres down 4 s + Redis restart (strict)', servers, options, async ({ faultEnded }) => {
    await servers.postgres.stop();
    await outage(2000);
    await servers.redis.stop();
    await servers.redis.start();
    await outage(2000);
    await servers.postgres.start();
    faultEnded();
  });
  expect(outcome.failures()).toEqual([]);
}, 120_000);
