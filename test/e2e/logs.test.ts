// What on-call reads in the logs of the deployed processes: a refused upgrade is one access line
// (status, reason, client address, never the token), and a worker's line about a client command
// names the connection, the user and the request it concerns.
import WebSocket from 'ws';
import { LomiClient } from '@lomi/client';
import { Encoding } from '@lomi/protocol';
import { startChaosServers, startTopology, type ChaosServers, type Topology } from '@lomi/testkit';

let servers: ChaosServers;
let topology: Topology;
beforeAll(async () => {
  servers = await startChaosServers();
  topology = await startTopology(servers, { gateways: 1, messageWorkers: 1 });
}, 60_000);
afterAll(async () => {
  await topology?.stop();
  await servers?.dispose();
});

/** The JSON lines a service wrote that match, once there is one (its output arrives through a pipe). */
async function linesOnceThere(service: { output(lines: number): string }, match: (line: Record<string, unknown>) => boolean) {
  for (let waited = 0; waited < 5000; waited += 50) {
    const found = lines(service.output(200), match);
    if (found.length > 0) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return [];
}

/** The JSON lines a service wrote so far that match. */
function lines(output: string, match: (line: Record<string, unknown>) => boolean): Record<string, unknown>[] {
  return output.split('\n').flatMap((text) => {
    try {
      const line = JSON.parse(text) as Record<string, unknown>;
      return match(line) ? [line] : [];
    } catch {
      return [];
    }
  });
}

test('a refused upgrade is logged with its status, reason and client address, not its token', async () => {
  const gateway = topology.gateways[0]!;
  const forged = await topology.token(topology.user('mallory'), { secret: 'not-the-gateways-secret-not-the-gateways' });
  const refused = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${gateway.url}/api/v1/ws/chat`, [Encoding.PROTO], { headers: { authorization: `Bearer ${forged}` } });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => undefined);
  });
  expect(refused).toBe(401);
  const access = await linesOnceThere(gateway, (l) => l.msg === 'upgrade refused');
  expect(access).toEqual([
    expect.objectContaining({ status: 401, outcome: 'unauthorized', clientAddress: '127.0.0.1', reason: expect.stringMatching(/^invalid token/) }),
  ]);
  expect(gateway.output(200)).not.toContain(forged);
});

test("a worker's line about a client command carries its connection, user and request id", async () => {
  const userId = topology.user('logged');
  const room = await topology.createLiveRoom(topology.user('logged-host'));
  const client = await LomiClient.connect({ url: topology.urls(), token: await topology.token(userId), encoding: Encoding.PROTO, WebSocket: WebSocket as never });
  await client.join(room);
  // With Redis gone the worker answers UNAVAILABLE and logs why.
  await servers.redis.stop();
  try {
    await expect(client.send(room, 'into the void')).rejects.toThrow();
  } finally {
    await servers.redis.start();
  }
  await client.close();
  const worker = topology.messageWorkers[0]!;
  const concerning = await linesOnceThere(worker, (l) => l.userId === userId);
  expect(concerning.length).toBeGreaterThan(0);
  for (const line of concerning) {
    expect(line).toEqual(expect.objectContaining({ command: 'send', connectionId: expect.stringMatching(/^[0-9a-f-]{36}$/), requestId: expect.any(Number) }));
  }
}, 30_000);
