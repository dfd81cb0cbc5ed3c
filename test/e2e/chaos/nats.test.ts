// Issue 23 — the bus going away: NATS restarted under traffic, and NATS down for 10 s while
// clients try to join every room through every gateway. Afterwards every room works on every
// gateway, and nothing acked is lost or duplicated.
import { ChaosClient, runExperiment, startChaosServers, type ChaosServers, type Experiment } from '@lomi/testkit';

let servers: ChaosServers;
beforeAll(async () => {
  servers = await startChaosServers();
});
afterAll(() => servers?.dispose());

const outage = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('NATS restart under traffic: every viewer gets every acked message', async () => {
  const outcome = await runExperiment('NATS restart', servers, {}, async ({ faultEnded }) => {
    await servers.nats.stop();
    await servers.nats.start();
    faultEnded();
  });
  expect(outcome.failures()).toEqual([]);
}, 90_000);

/**
 * A client per room per gateway, joining while NATS is down and retrying until the join is
 * answered; one problem line for each that is not joined `withinMs` after NATS returned.
 */
async function joinThroughEveryGateway(x: Experiment, nats: { backAt?: number }, withinMs: number): Promise<void> {
  const { topology, traffic } = x;
  const attempts = traffic.rooms.flatMap((room, r) =>
    topology.gateways.map(async (_, g) => {
      // A live room takes anyone; a private room only its members (its first viewer is one).
      const user = r < traffic.options.liveRooms ? topology.user(`late${r}-${g}`) : traffic.viewers.find((v) => v.room.id === room.id)!.viewer;
      const [client] = (await traffic.connect([{ user, gateway: g }])) as [ChaosClient];
      let last = '';
      for (;;) {
        try {
          return await client.join(room);
        } catch (err) {
          last = (err as Error).message;
        }
        if (nats.backAt !== undefined && performance.now() - nats.backAt > withinMs) {
          x.problems.push(`${user} could not join ${room.id} through gateway-${g + 1} within ${withinMs} ms of NATS coming back: ${last}`);
          return undefined;
        }
        await outage(200);
      }
    }),
  );
  await Promise.all(attempts);
}

test('NATS down for 10 s while clients join: afterwards every room works on every gateway', async () => {
  // No live-room viewers before the outage: the joiners are each gateway's first member of the
  // room, so the gateway subscribes to it while NATS is away. Private rooms' members are joined.
  const options = { traffic: { viewersPerLiveRoom: 0 } };
  const outcome = await runExperiment('NATS down 10 s, joins during it', servers, options, async (x) => {
    await servers.nats.stop();
    const nats: { backAt?: number } = {};
    const joining = joinThroughEveryGateway(x, nats, 15_000);
    // The fault's length: NATS stays down this long.
    await outage(10_000);
    await servers.nats.start();
    nats.backAt = performance.now();
    x.faultEnded();
    await joining;
  });
  expect(outcome.failures()).toEqual([]);
}, 120_000);
