// Issue 28 — the bus as a cluster: three NATS servers routed to each other, every service given
// the whole list (each connects to one of them). The node holding the most connections is killed
// with -9 under traffic and restarted: its services reconnect to the others, clients keep
// receiving, and nothing acked is lost or duplicated.
import { runExperiment, startChaosServers, type ChaosServers } from '@lomi/testkit';

let servers: ChaosServers;
beforeAll(async () => {
  servers = await startChaosServers({ natsCluster: 3 });
});
afterAll(() => servers?.dispose());

async function connections(monitorUrl: string): Promise<number> {
  return ((await (await fetch(`${monitorUrl}/connz`)).json()) as { num_connections: number }).num_connections;
}

test('a NATS cluster node killed with -9 under traffic and restarted: every viewer gets every acked message', async () => {
  const outcome = await runExperiment('NATS cluster node kill -9', servers, {}, async (x) => {
    const counts = await Promise.all(servers.natsNodes.map((n) => connections(n.monitorUrl!)));
    const busiest = servers.natsNodes[counts.indexOf(Math.max(...counts))]!;
    x.notes.push(`killed a node holding ${Math.max(...counts)} of ${counts.reduce((a, b) => a + b, 0)} connections`);
    await busiest.kill();
    await new Promise((r) => setTimeout(r, 2000));
    await busiest.start();
    x.faultEnded();
  });
  expect(outcome.failures()).toEqual([]);
}, 120_000);
