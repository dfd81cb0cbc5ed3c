// Issue 23 — processes dying under live traffic: a message worker or a gateway killed with -9
// (a crashed pod), and a gateway drained by SIGTERM while the message workers are frozen. Every
// acked message reaches every viewer and Postgres, once, under its one seq.
import { runExperiment, startChaosServers, type ChaosServers } from '@lomi/testkit';

let servers: ChaosServers;
beforeAll(async () => {
  servers = await startChaosServers();
});
afterAll(() => servers?.dispose());

test('kill -9 of a message worker under traffic: nothing lost, nothing duplicated', async () => {
  const outcome = await runExperiment('message worker kill -9', servers, {}, async ({ topology, faultEnded }) => {
    await topology.messageWorkers[0]!.kill();
    faultEnded();
  });
  expect(outcome.failures()).toEqual([]);
}, 120_000);

test('kill -9 of a gateway under traffic: its clients recover on the other gateway', async () => {
  const outcome = await runExperiment('gateway kill -9', servers, {}, async ({ topology, faultEnded }) => {
    await topology.gateways[0]!.kill();
    faultEnded();
  });
  expect(outcome.failures()).toEqual([]);
}, 120_000);

test('SIGTERM drain of a gateway holding 1,000 viewers of one room while both message workers are frozen: every viewer rejoins and gets everything', async () => {
  const outcome = await runExperiment(
    'gateway SIGTERM drain, 1,000 viewers, workers frozen 1.5 s',
    servers,
    {
      topology: { env: { JOIN_LEAVE_MESSAGES: 'true', JOIN_MESSAGES_MAX_ROOM: '5000', JOIN_AGGREGATE_INTERVAL_MS: '1000' } },
      traffic: { liveRooms: 1, privateRooms: 0, viewersPerLiveRoom: 1000, sendersPerLiveRoom: 2, viewerGateway: 0 },
      acksAround: 20,
    },
    async ({ topology, faultEnded, problems, notes }) => {
      for (const worker of topology.messageWorkers) worker.pause();
      const drained = topology.gateways[0]!.terminate();
      // The fault's length, not a wait for something: the workers stay frozen this long.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (const worker of topology.messageWorkers) worker.resume();
      faultEnded();
      const exit = await drained;
      notes.push(`drained gateway exited with ${exit}`);
      if (exit !== 'code 0') problems.push(`the drained gateway exited with ${exit}:\n${topology.gateways[0]!.output()}`);
    },
  );
  expect(outcome.failures()).toEqual([]);
}, 180_000);
