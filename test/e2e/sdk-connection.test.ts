// The SDK's connection life over the real wire: the first connect retries like a reconnect and
// walks the URLs; backoff grows while attempts fail and starts over after a stable period; a
// drain (close 4000) moves the client to another gateway; a silently dead connection is noticed
// by the client's heartbeat and replaced.
import WebSocket from 'ws';
import { CloseCode, LomiClient, type ConnectionState, type ConnectOptions } from '@lomi/client';
import { MessageLog, startTcpProxy, waitFor, type TcpProxy } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
let proxy: TcpProxy;
let dead: TcpProxy;

beforeAll(async () => {
  system = await startSystem({ gateways: 3 });
  proxy = await startTcpProxy(system.gateways[0]!.port);
  dead = await startTcpProxy(system.gateways[0]!.port);
  dead.set('cut');
});
afterAll(async () => {
  await proxy.stop();
  await dead.stop();
  await system.stop();
});
afterEach(() => proxy.set('forward'));

const WINDOW_MS = 100;
const MAX_MS = 800;

async function options(name: string, extra: Partial<ConnectOptions> = {}): Promise<ConnectOptions> {
  return {
    url: proxy.url,
    token: await system.token(system.user(name)),
    WebSocket: WebSocket as never,
    reconnectWindowMs: WINDOW_MS,
    reconnectMaxMs: MAX_MS,
    ...extra,
  };
}

function record(client: LomiClient) {
  const events = { states: [] as ConnectionState[], attempts: [] as { attempt: number; delayMs: number; code: number; reason: string }[] };
  client.on('state', (s) => events.states.push(s));
  client.on('reconnecting', (attempt, delayMs, code, reason) => events.attempts.push({ attempt, delayMs, code, reason }));
  return events;
}

test('the first connect retries with growing backoff until the gateway is reachable', async () => {
  proxy.set('cut');
  const client = new LomiClient(await options('first'));
  const events = record(client);
  const connected = client.connect();
  expect(client.state).toBe('connecting');
  await waitFor(() => events.attempts.length >= 4, 'four failed attempts');
  proxy.set('forward');
  await connected;
  expect(client.state).toBe('connected');
  expect(events.states).toEqual(['connected']);
  const attempts = events.attempts.slice(0, 4);
  expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
  attempts.forEach((a, i) => expect(a.delayMs).toBeLessThan(Math.min(MAX_MS, WINDOW_MS * 2 ** i)));
  expect(await client.ping()).toBeGreaterThan(0);
  await client.close();
  expect(events.states).toEqual(['connected', 'closed']);
});

test('with several URLs each attempt tries the next one', async () => {
  const client = await LomiClient.connect(await options('several', { url: [dead.url, system.wsUrl(1)] }));
  const events = record(client);
  expect(dead.accepted).toBeGreaterThanOrEqual(1);
  expect(await client.ping()).toBeGreaterThan(0);
  await client.close();
  expect(events.states).toEqual(['closed']);
});

test('backoff keeps growing while connections do not last, and starts over after a stable period', async () => {
  const client = await LomiClient.connect(await options('flappy', { stableAfterMs: 1500 }));
  const events = record(client);
  // Each new connection is cut at once, before it could prove stable.
  for (let round = 1; round <= 3; round++) {
    proxy.set('cut');
    await waitFor(() => events.attempts.length >= round, `attempt ${round}`);
    proxy.set('forward');
    await waitFor(() => client.state === 'connected', `connected again (${round})`);
  }
  // A retry may also hit the cut before the test lifts it: one more attempt, never a reset.
  const flapping = events.attempts.length;
  expect(flapping).toBeGreaterThanOrEqual(3);
  expect(events.attempts.map((a) => a.attempt)).toEqual(Array.from({ length: flapping }, (_, i) => i + 1));
  // Now stable for longer than stableAfterMs: the next outage starts at the first window.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  proxy.set('cut');
  await waitFor(() => events.attempts.length > flapping, 'the attempt after a stable period');
  proxy.set('forward');
  expect(events.attempts[flapping]!.attempt).toBe(1);
  await waitFor(() => client.state === 'connected', 'connected again');
  await client.close();
});

test('a draining gateway (close 4000) sends the client to the next URL, where its room goes on', async () => {
  const room = await system.createLiveRoom(system.user('drain-caster'));
  const sender = await system.connect(system.user('drain-sender'), { gateway: 1, join: room });
  const client = await LomiClient.connect(await options('drained', { url: [system.wsUrl(2), system.wsUrl(1)] }));
  const events = record(client);
  const log = new MessageLog(client);
  await client.join(room);
  await sender.send(room, 'before');
  await system.gateways[2]!.stop();
  await waitFor(() => client.state === 'connected' && events.states.includes('reconnecting'), 'reconnected elsewhere', 15_000);
  expect(events.attempts[0]).toMatchObject({ attempt: 1, code: CloseCode.SHUTDOWN });
  await sender.send(room, 'after');
  expect((await log.waitFor(room, 2)).map((m) => m.content)).toEqual(['before', 'after']);
  await client.close();
});

test('a connection that goes silent (no close, no bytes) is noticed by the heartbeat and replaced', async () => {
  const client = await LomiClient.connect(await options('heartbeat', { pingIntervalMs: 300, pingTimeoutMs: 300 }));
  const events = record(client);
  proxy.set('silent');
  // Noticed within interval + timeout: far sooner than any TCP timeout would tell.
  await waitFor(() => events.states.includes('reconnecting'), 'the dead connection noticed', 5_000);
  expect(events.attempts[0]).toMatchObject({ attempt: 1, code: 1006, reason: 'no pong within 300 ms' });
  proxy.set('forward');
  await waitFor(() => client.state === 'connected', 'connected again');
  expect(await client.ping()).toBeGreaterThan(0);
  await client.close();
});
