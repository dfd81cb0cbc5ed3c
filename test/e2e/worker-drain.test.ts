// A message worker, a process of its own as deployed, gets SIGTERM (a rolling deploy, a
// scale-down) while sends are in flight and no other message worker runs: it stops taking
// requests, answers the ones it holds, persists what it acked to Postgres, and exits 0. Every
// send gets an answer — an ack, or UNAVAILABLE once no worker is left — long before the gateway
// would have given up on it, and every acked message is in Postgres when the process is gone.
import { LomiClient, LomiError } from '@lomi/client';
import { Encoding, ErrorCode } from '@lomi/protocol';
import WebSocket from 'ws';
import { startChaosServers, startTopology, tablesOf, type ChaosServers, type Topology } from '@lomi/testkit';

// Long, so that a request the worker took and dropped would still be pending when the test looks.
const REQUEST_TIMEOUT_MS = 30_000;

let servers: ChaosServers;
let topology: Topology;
beforeAll(async () => {
  servers = await startChaosServers();
  topology = await startTopology(servers, { gateways: 1, messageWorkers: 1, env: { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) } });
}, 60_000);
afterAll(async () => {
  await topology?.stop();
  await servers?.dispose();
});

test('SIGTERM of the only message worker mid-stream: every send answered, every ack in Postgres, exit 0', async () => {
  const sender = topology.user('drain-sender');
  const room = await topology.createLiveRoom(topology.user('drain-host'));
  const client = await LomiClient.connect({
    url: topology.urls(),
    token: await topology.token(sender),
    encoding: Encoding.PROTO,
    WebSocket: WebSocket as never,
    requestTimeoutMs: REQUEST_TIMEOUT_MS * 2,
  });
  await client.join(room);

  // A stream of sends, 20 at a time, that the SIGTERM lands in the middle of.
  const outcomes: PromiseSettledResult<{ seq: number; text: string }>[] = [];
  let sent = 0;
  let warm = (): void => {};
  const warmedUp = new Promise<void>((resolve) => (warm = resolve));
  const stream = (async () => {
    for (;;) {
      const batch = Array.from({ length: 20 }, () => {
        const text = `m-${sent++}`;
        return client.send(room, text).then((ack) => ({ seq: Number(ack.seq), text }));
      });
      outcomes.push(...(await Promise.allSettled(batch)));
      if (outcomes.length >= 200) warm();
      if (outcomes.some((o) => o.status === 'rejected')) return;
    }
  })();
  await warmedUp;

  const worker = topology.messageWorkers[0]!;
  const terminated = performance.now();
  const exit = await worker.terminate();
  await stream;
  const answeredWithin = performance.now() - terminated;
  await client.close();

  expect(exit).toBe('code 0');
  const acked = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
  expect(acked.length).toBeGreaterThanOrEqual(200);
  // Once the worker is gone nobody answers sends: UNAVAILABLE at once, nothing else.
  for (const err of refused) {
    expect(err).toBeInstanceOf(LomiError);
    expect((err as LomiError).code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
  }
  // Nothing waited for the gateway's request timeout: no request was taken and dropped.
  expect(answeredWithin).toBeLessThan(REQUEST_TIMEOUT_MS);

  // No other worker runs: what is in Postgres now was persisted by the stopping one.
  const rows = await (await tablesOf(servers.db, topology.namespace)).selectFrom('messages').select(['seq', 'content']).where('room_id', '=', room.id!).execute();
  const stored = new Map(rows.map((r) => [Number(r.seq), r.content]));
  const missing = acked.filter((a) => stored.get(a.seq) !== a.text);
  expect(missing).toEqual([]);
}, 60_000);
