// The offline webhook: a private message for a member with no live connection is POSTed to the
// app back end, signed (Standard Webhooks: the id and timestamp with the body), once per message,
// retried with backoff when the call fails, and never when the recipient is online.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import { createPresenceReader } from '@lomi/presence';

const SECRET = 'webhook-test-secret';

interface Call {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { messageId: string; conversationId: string; recipientId: string; senderId: string; seq: string; preview: string; createdAt: string };
}

let system: TestSystem;
let server: Server;
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
});
afterAll(async () => {
  await system.stop();
  await new Promise((resolve) => server.close(resolve));
});

const callsFor = (preview: string) => calls.filter((c) => c.body.preview === preview);

/** The tolerance the README tells receivers to apply to webhook-timestamp. */
const TOLERANCE_S = 300;

/**
 * What a receiver does with a call (Standard Webhooks): recompute the v1 signature over
 * "id.timestamp.body" with the shared secret, compare in constant time, and refuse a timestamp
 * outside the tolerance. Returns why it refuses, or undefined when the call is genuine.
 */
function verify(headers: IncomingHttpHeaders, raw: string, nowS = Date.now() / 1000): string | undefined {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return 'missing headers';
  if (Math.abs(nowS - Number(timestamp)) > TOLERANCE_S) return 'timestamp outside the tolerance';
  const expected = Buffer.from(createHmac('sha256', SECRET).update(`${id}.${timestamp}.${raw}`).digest('base64'));
  // Space-separated "v1,<base64>" entries; any one matching is enough.
  const match = signatures.split(' ').some((s) => {
    const [version, value] = s.split(',');
    const given = Buffer.from(value ?? '');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
  return match ? undefined : 'bad signature';
}

function expectSigned(call: Call): void {
  expect(verify(call.headers, call.raw)).toBeUndefined();
  // Replayed later, with its timestamp moved to now, with another delivery id or another body: refused.
  expect(verify(call.headers, call.raw, Date.now() / 1000 + TOLERANCE_S + 60)).toBe('timestamp outside the tolerance');
  const now = String(Math.floor(Date.now() / 1000) + 5);
  expect(verify({ ...call.headers, 'webhook-timestamp': now }, call.raw)).toBe('bad signature');
  expect(verify({ ...call.headers, 'webhook-id': 'another-delivery' }, call.raw)).toBe('bad signature');
  expect(verify(call.headers, call.raw.replace('"type"', '"tipe"'))).toBe('bad signature');
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
  expect(call!.body).toEqual({
    type: 'message.offline',
    conversationId: room.id,
    messageId: first.id,
    seq: String(first.seq),
    senderId: a,
    recipientId: b,
    preview: 'are you there?',
    createdAt: new Date(Number(first.createdAtMs)).toISOString(),
  });
  expect(callsFor('hello again')[0]!.body.messageId).toBe(second.id);

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
  expect(retried!.headers['webhook-id']).toBe(failed!.headers['webhook-id']);
  expect(retried!.raw).toBe(failed!.raw);
  expectSigned(retried!);
  expect(Date.now() - sentAt).toBeGreaterThanOrEqual(200);
});

test('no call when the recipient is online', async () => {
  const [e, f] = [system.user('we'), system.user('wf')];
  const room = await system.createPrivateRoom(e, f);
  const recipient = await system.connect(f, { gateway: 1 });
  // Online once the presence worker has recorded the connection.
  const presence = createPresenceReader({ hot: await system.hotState() });
  await waitFor(() => presence.isOnline(f), 'the recipient to be online');
  const sender = await system.connect(e);
  await sender.send(room, 'you are online');

  // The same sender to someone offline: once that call arrives, the first would have too.
  const offlineRoom = await system.createPrivateRoom(e, system.user('wg'));
  await sender.send(offlineRoom, 'marker 2');
  await waitFor(() => callsFor('marker 2').length === 1, 'the marker call');
  expect(callsFor('you are online')).toHaveLength(0);
  await recipient.close();
});
