// Issue 23 — Redis losing what it held: restarted without persistence, killed with -9 with an
// append-only file, and a power cut that takes the AOF's last second with it. A seq is never
// reused and no message is duplicated; where Redis lost the room the epoch changes. With
// ACK_DURABILITY=postgres (strict) nothing acked may be lost; by default what is lost is
// reported in the figures.
import {
  AofSampler,
  currentIncrAof,
  runExperiment,
  startChaosServers,
  startRedisServer,
  unchangedEpochs,
  type ChaosServers,
  type Experiment,
  type RedisServer,
} from '@lomi/testkit';

let servers: ChaosServers;
/** A second Redis, with `appendonly yes` and `appendfsync everysec`. */
let aof: RedisServer;
beforeAll(async () => {
  [servers, aof] = await Promise.all([startChaosServers(), startRedisServer({ appendOnly: true })]);
});
afterAll(async () => {
  await Promise.all([servers?.dispose(), aof?.dispose()]);
});

const STRICT = { ACK_DURABILITY: 'postgres' };
const ON_AOF = () => ({ REDIS_URL: aof.url });

/** After a fault that lost Redis's data: the rooms must be in a new epoch once traffic resumed. */
async function expectNewEpochs(x: Experiment): Promise<void> {
  await x.traffic.waitForAcks(10);
  for (const room of await unchangedEpochs(x)) x.problems.push(`epoch unchanged after Redis lost its data: ${room}`);
}

async function restartWithoutPersistence(x: Experiment): Promise<void> {
  await servers.redis.stop();
  await servers.redis.start();
  x.faultEnded();
  await expectNewEpochs(x);
}

test('Redis restart without persistence (default durability): no seq reused, no duplicate, a new epoch; loss reported', async () => {
  const outcome = await runExperiment('Redis restart, no persistence (default)', servers, {}, restartWithoutPersistence);
  expect(outcome.failures({ allowLoss: true })).toEqual([]);
}, 90_000);

test('Redis restart without persistence (ACK_DURABILITY=postgres): nothing acked lost either', async () => {
  const outcome = await runExperiment('Redis restart, no persistence (strict)', servers, { topology: { messageWorkerEnv: STRICT } }, restartWithoutPersistence);
  expect(outcome.failures()).toEqual([]);
}, 90_000);

test('Redis kill -9 with an AOF: it comes back with everything; nothing lost', async () => {
  const outcome = await runExperiment('Redis kill -9 with AOF (default)', servers, { topology: { env: ON_AOF() } }, async ({ faultEnded }) => {
    await aof.kill();
    await aof.start();
    faultEnded();
  });
  expect(outcome.failures()).toEqual([]);
}, 90_000);

/** kill -9, then the AOF cut back to its size one second before, as a power cut leaves it. */
async function powerCut(x: Experiment): Promise<void> {
  const sampler = new AofSampler(currentIncrAof(aof));
  // The samples must reach back a second before the kill: the traffic goes on that long.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await aof.kill();
  const cut = sampler.cutBack(1000);
  await aof.start();
  x.faultEnded();
  x.notes.push(`AOF cut by ${cut} bytes`);
  await expectNewEpochs(x);
}

test('Redis AOF losing its last second (default durability): no seq reused, no duplicate, a new epoch; loss reported', async () => {
  const outcome = await runExperiment('Redis AOF cut back 1 s (default)', servers, { topology: { env: ON_AOF() } }, powerCut);
  expect(outcome.failures({ allowLoss: true })).toEqual([]);
}, 90_000);

test('Redis AOF losing its last second (ACK_DURABILITY=postgres): nothing acked lost either', async () => {
  const options = { topology: { env: ON_AOF(), messageWorkerEnv: STRICT } };
  const outcome = await runExperiment('Redis AOF cut back 1 s (strict)', servers, options, powerCut);
  expect(outcome.failures()).toEqual([]);
}, 90_000);
