// The offline webhook: a private message for a member with no live connection is POSTed to the
// app back end, signed, once per message, retried with backoff when the call fails, and never
// when the recipient is online.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createKeys } from '@lomi/common';
import { startSystem, waitFor, type TestSystem } from '@lomi/testkit';
import Redis from 'ioredis';

const SECRET = 'webhook-test-secret';

interface Call {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { message_id: string; conversation_id: string; recipient_id: string; sender_id: string; seq: number; preview: string; created_at: string };
}

let system: TestSystem;
let server: Server;
let redis: Redis;
const calls: Call[] = [];
/** Message previews whose first call is answered 500. */
const failFirst = new Set<string>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const call: Call = { headers: req.headers, raw, body: JSON.parse(raw) };
      calls.push(call);
      const fail = failFirst.delete(call.body.preview);
      res.writeHead(fail ? 500 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
  system = await startSystem({
    gateways: 2,
    messageWorkers: 2,
    env: { OFFLINE_WEBHOOK_URL: url, OFFLINE_WEBHOOK_SECRET: SECRET, OFFLINE_WEBHOOK_BACKOFF_MS: '200' },
  });
  redis = new Redis(system.env.REDIS_URL!);
});
afterAll(async () => {
  redis.disconnect();
  await system.stop();
  await new Promise((resolve) => server.close(resolve));
});

const callsFor = (preview: string) => calls.filter((c) => c.body.preview === preview);

function expectSigned(call: Call): void {
  const expected = `sha256=${createHmac('sha256', SECRET).update(call.raw).digest('hex')}`;
  expect(call.headers['x-lomi-signature']).toBe(expected);
  expect(Number(call.headers['x-lomi-timestamp'])).toBeGreaterThan(Date.now() - 60_000);
}

test('each message for an offline member is POSTed once, signed, with its summary', async () => {
  const [a, b] = [system.user('wa'), system.user('wb')];
  const room = await system.createPrivateRoom(a, b);
  const sender = await system.connect(a);
  await sender.join(room);
  const first = await sender.send(room, 'are you there?');
  const second = await sender.send(room, 'hello again');
  await waitFor(() => callsFor('are you there?').length === 1 && callsFor('hello again').length === 1, 'two webhook calls');

  const [call] = callsFor('are you there?');
  expectSigned(call!);
  expect(call!.body).toMatchObject({
    conversation_id: room.id,
    message_id: first.id,
    seq: Number(first.seq),
    sender_id: a,
    recipient_id: b,
    created_at: new Date(Number(first.createdAtMs)).toISOString(),
  });
  expect(callsFor('hello again')[0]!.body.message_id).toBe(second.id);

  // A later message's call proves the earlier ones were not repeated in the meantime.
  await sender.send(room, 'marker 1');
  await waitFor(() => callsFor('marker 1').length === 1, 'the marker call');
  expect(callsFor('are you there?')).toHaveLength(1);
  expect(callsFor('hello again')).toHaveLength(1);
});

test('a failed call (HTTP 500) is retried after a backoff, with the same delivery id and a valid signature', async () => {
  const room = await system.createPrivateRoom(system.user('wc'), system.user('wd'));
  const sender = await system.connect(system.user('wc'));
  failFirst.add('retry me');
  const sentAt = Date.now();
  await sender.send(room, 'retry me');
  await waitFor(() => callsFor('retry me').length === 2, 'the retried call');
  const [failed, retried] = callsFor('retry me');
  expect(retried!.headers['x-lomi-delivery']).toBe(failed!.headers['x-lomi-delivery']);
  expect(retried!.raw).toBe(failed!.raw);
  expectSigned(retried!);
  expect(Date.now() - sentAt).toBeGreaterThanOrEqual(200);
});

test('no call when the recipient is online', async () => {
  const [e, f] = [system.user('we'), system.user('wf')];
  const room = await system.createPrivateRoom(e, f);
  const recipient = await system.connect(f, { gateway: 1 });
  // Online once the presence worker has recorded the connection.
  const connections = createKeys(system.namespace).userConnections(f);
  await waitFor(async () => (await redis.zcount(connections, Date.now(), '+inf')) > 0, 'the recipient to be online');
  const sender = await system.connect(e);
  await sender.send(room, 'you are online');

  // The same sender to someone offline: once that call arrives, the first would have too.
  const offlineRoom = await system.createPrivateRoom(e, system.user('wg'));
  await sender.send(offlineRoom, 'marker 2');
  await waitFor(() => callsFor('marker 2').length === 1, 'the marker call');
  expect(callsFor('you are online')).toHaveLength(0);
  await recipient.close();
});
