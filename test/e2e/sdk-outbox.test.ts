// The SDK never loses or doubles a message: sends made while the gateway is unreachable wait in
// the outbox and are stored once each, in order, after the reconnect; a send whose ack was lost
// goes again with the same client_msg_id and is stored once; every send ends in its ack or a
// typed error (and the outbox's persistence hook carries sends across an app restart).
import WebSocket from 'ws';
import {
  ClientClosedError,
  ErrorCode,
  ForbiddenError,
  LomiClient,
  LomiError,
  RateLimitedError,
  RoomClosedError,
  TooLargeError,
  type ConnectOptions,
  type PersistedSend,
  type RestoredSendResult,
} from '@lomi/client';
import { MessageLog, startTcpProxy, waitFor, type TcpProxy } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
let proxy: TcpProxy;

beforeAll(async () => {
  // A live-room rate limit small enough to hit; the outbox tests use private rooms, which have none.
  // Two message workers: sends pipelined over one socket could be stored out of order.
  system = await startSystem({ messageWorkers: 2, env: { LIVE_RATE_PER_S: '1', LIVE_RATE_BURST: '2' } });
  proxy = await startTcpProxy(system.gateways[0]!.port);
});
afterAll(async () => {
  await proxy.stop();
  await system.stop();
});
afterEach(() => proxy.set('forward'));

async function client(name: string, options: Partial<ConnectOptions> = {}): Promise<LomiClient> {
  return LomiClient.connect({
    url: proxy.url,
    token: await system.token(system.user(name)),
    WebSocket: WebSocket as never,
    reconnectWindowMs: 100,
    reconnectMaxMs: 400,
    ...options,
  });
}

/** Each stored message of the room, by seq, from history. */
async function stored(reader: LomiClient, room: { kind?: number | null; id?: string | null }): Promise<string[]> {
  const page = await reader.history(room, { limit: 100 });
  return (page.messages ?? []).map((m) => m.content ?? '');
}

test('sends made while the gateway is unreachable are each stored once, in order, after the reconnect', async () => {
  const [a, b] = [system.user('ob-a'), system.user('ob-b')];
  const room = await system.createPrivateRoom(a, b);
  const reader = await system.connect(b);
  const log = new MessageLog(reader);
  await reader.join(room);
  const sender = await client('ob-a');
  const states: string[] = [];
  sender.on('state', (s) => states.push(s));
  await sender.join(room);
  expect(Number((await sender.send(room, 'm1')).seq)).toBe(1);

  proxy.set('cut');
  await waitFor(() => sender.state === 'reconnecting', 'the sender to notice the cut');
  const offline = ['m2', 'm3', 'm4', 'm5', 'm6'].map((text) => sender.send(room, text));
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(sender.pendingSends).toBe(5);

  proxy.set('forward');
  const acks = await Promise.all(offline);
  expect(acks.map((ack) => Number(ack.seq))).toEqual([2, 3, 4, 5, 6]);
  expect(acks.map((ack) => Boolean(ack.duplicate))).toEqual([false, false, false, false, false]);
  expect(sender.pendingSends).toBe(0);
  const got = await log.waitFor(room, 6);
  expect(got.map((m) => m.content)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  expect(await stored(reader, room)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  expect(states).toEqual(['reconnecting', 'connected']);
  await sender.close();
});

test('a send whose ack was lost goes again after the reconnect with the same client_msg_id and is stored once', async () => {
  const [a, b] = [system.user('lost-a'), system.user('lost-b')];
  const room = await system.createPrivateRoom(a, b);
  const reader = await system.connect(b);
  await reader.join(room);
  const sender = await client('lost-a', { requestTimeoutMs: 60_000 });
  await sender.join(room);

  // The server gets the send and stores it; its ack never comes back.
  proxy.set('deaf');
  const sent = sender.send(room, 'said once', 'the-one-id');
  await waitFor(async () => (await stored(reader, room)).length === 1, 'the message stored');
  proxy.set('cut');
  await waitFor(() => sender.state === 'reconnecting', 'the sender to notice the cut');
  proxy.set('forward');
  const ack = await sent;
  expect(Number(ack.seq)).toBe(1);
  expect(ack.duplicate).toBe(true);
  expect(await stored(reader, room)).toEqual(['said once']);
  await sender.close();
});

test('every send ends in its ack or a typed error: rate limited, not a member, too large, room closed, client closed', async () => {
  const caster = system.user('te-caster');
  const live = await system.createLiveRoom(caster);
  const sender = await client('te-sender');
  await sender.join(live);
  const burst = await Promise.allSettled([1, 2, 3, 4].map((i) => sender.send(live, `burst ${i}`)));
  const limited = burst.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  expect(limited.reason).toBeInstanceOf(RateLimitedError);
  expect(limited.reason).toBeInstanceOf(LomiError);
  expect((limited.reason as RateLimitedError).code).toBe(ErrorCode.ERROR_CODE_RATE_LIMITED);
  expect((limited.reason as RateLimitedError).retryAfterMs).toBeGreaterThan(0);

  const others = await system.createPrivateRoom(system.user('te-x'), system.user('te-y'));
  await expect(sender.send(others, 'let me in')).rejects.toBeInstanceOf(ForbiddenError);
  const own = await system.createPrivateRoom(system.user('te-sender'), system.user('te-z'));
  await expect(sender.send(own, 'x'.repeat(501))).rejects.toBeInstanceOf(TooLargeError);

  expect((await system.api('POST', `/api/v1/live/${live.id}/end`)).status).toBe(200);
  await expect(sender.send(live, 'after the end')).rejects.toBeInstanceOf(RoomClosedError);

  proxy.set('cut');
  await waitFor(() => sender.state === 'reconnecting', 'the sender to notice the cut');
  const unsent = sender.send(own, 'never sent');
  await sender.close();
  await expect(unsent).rejects.toBeInstanceOf(ClientClosedError);
  expect(sender.pendingSends).toBe(0);
});

test('sends saved by the persistence hook are sent at the next start, once each, and reported', async () => {
  const [a, b] = [system.user('ps-a'), system.user('ps-b')];
  const room = await system.createPrivateRoom(a, b);
  const reader = await system.connect(b);
  await reader.join(room);
  // The previous run stored "first" but its ack was lost; "second" never left the device.
  const previous = await client('ps-a');
  await previous.send(room, 'first', 'ps-1');
  await previous.close();
  const saved: PersistedSend[] = [
    { room: { kind: room.kind, id: room.id }, clientMsgId: 'ps-1', text: 'first' },
    { room: { kind: room.kind, id: room.id }, clientMsgId: 'ps-2', text: 'second' },
  ];
  const saves: string[][] = [];
  const restored: RestoredSendResult[] = [];
  const next = new LomiClient({
    url: proxy.url,
    token: await system.token(a),
    WebSocket: WebSocket as never,
    outboxStore: { load: () => saved, save: (sends) => void saves.push(sends.map((s) => s.clientMsgId)) },
  });
  next.on('restoredSend', (r) => restored.push(r));
  await next.connect();
  await waitFor(() => restored.length === 2, 'both restored sends settled');
  expect(restored.map((r) => [r.clientMsgId, Number(r.ack?.seq), Boolean(r.ack?.duplicate)])).toEqual([
    ['ps-1', 1, true],
    ['ps-2', 2, false],
  ]);
  expect(saves[saves.length - 1]).toEqual([]);
  expect(await stored(reader, room)).toEqual(['first', 'second']);
  await next.close();
});
