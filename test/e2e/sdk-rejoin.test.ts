// After a reconnect the SDK joins its rooms again on its own (gateway 0 stays up for the service
// API; each test sends a client from one gateway to the next by stopping it). A rejoin the server cannot answer
// now (UNAVAILABLE) is tried again with backoff until it succeeds, and the app misses nothing;
// a rejoin the room refuses for good (ROOM_CLOSED) drops the room and says so.
import WebSocket from 'ws';
import { ErrorCode, LomiClient, LomiError, type Room } from '@lomi/client';
import { MessageLog, waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 4 });
});
afterAll(() => system.stop());

const RECONNECT_WINDOW_MS = 200;

/** An SDK client on gateway `first` that reconnects to gateway `first + 1`, with its events recorded. */
async function wanderer(name: string, first: number) {
  const client = await LomiClient.connect({
    url: [system.wsUrl(first), system.wsUrl(first + 1)],
    token: await system.token(system.user(name)),
    WebSocket: WebSocket as never,
    reconnectWindowMs: RECONNECT_WINDOW_MS,
  });
  const events = {
    reconnectDelays: [] as number[],
    reconnected: 0,
    rejoining: [] as { attempt: number; error: Error }[],
    rejoined: [] as { room: Room; recovered: boolean }[],
    lost: [] as { room: Room; error: Error }[],
  };
  client.on('reconnecting', (_attempt, delayMs) => events.reconnectDelays.push(delayMs));
  client.on('reconnected', () => (events.reconnected += 1));
  client.on('rejoining', (_room, attempt, _delay, error) => events.rejoining.push({ attempt, error }));
  client.on('rejoined', (room, recovered) => events.rejoined.push({ room, recovered }));
  client.on('roomLost', (room, error) => events.lost.push({ room, error }));
  return { client, events, log: new MessageLog(client) };
}

test('a rejoin answered UNAVAILABLE is retried with backoff until the room is back, and nothing is missed', async () => {
  const room = await system.createLiveRoom(system.user('caster'));
  const sender = await system.connect(system.user('sender'), { gateway: 0 });
  await sender.join(room);
  const { client, events, log } = await wanderer('patient', 1);
  await client.join(room);
  for (let i = 1; i <= 3; i++) await sender.send(room, `before-${i}`);
  await log.waitFor(room, 3);

  // No message worker: every join is refused with UNAVAILABLE until one is back.
  await system.workers.shift()!.stop();
  await system.gateways[1]!.stop();
  await waitFor(() => events.rejoining.length >= 2, 'two failed rejoins', 20_000);
  expect(events.reconnected).toBe(1);
  expect(events.reconnectDelays[0]).toBeLessThan(RECONNECT_WINDOW_MS);
  const failed = [...events.rejoining];
  expect(failed.map((r) => r.attempt)).toEqual(failed.map((_, i) => i + 1));
  expect(new Set(failed.map((r) => (r.error as LomiError).code))).toEqual(new Set([ErrorCode.ERROR_CODE_UNAVAILABLE]));

  await system.startMessageWorker();
  await waitFor(() => events.rejoined.length === 1, 'the room rejoined', 20_000);
  expect(events.rejoined).toEqual([{ room: { kind: room.kind, id: room.id }, recovered: true }]);
  for (let i = 1; i <= 3; i++) await sender.send(room, `after-${i}`);
  const got = await log.waitFor(room, 6);
  expect(got.map((m) => m.content)).toEqual(['before-1', 'before-2', 'before-3', 'after-1', 'after-2', 'after-3']);
  expect(events.lost).toEqual([]);
  await client.close();
});

test('a rejoin refused for good (the stream ended meanwhile) drops the room at once and reports it', async () => {
  const room = await system.createLiveRoom(system.user('ending-caster'));
  const { client, events } = await wanderer('mourner', 2);
  const errors: Error[] = [];
  client.on('error', (err) => errors.push(err));
  await client.join(room);
  expect((await system.api('POST', `/api/v1/live/${room.id}/end`)).status).toBe(200);

  await system.gateways[2]!.stop();
  await waitFor(() => events.lost.length === 1, 'the room given up', 20_000);
  expect((events.lost[0]!.error as LomiError).code).toBe(ErrorCode.ERROR_CODE_ROOM_CLOSED);
  expect(errors.map((e) => (e instanceof LomiError ? e.code : e.message))).toEqual([ErrorCode.ERROR_CODE_ROOM_CLOSED]);
  expect([events.rejoining, events.rejoined]).toEqual([[], []]);
  await client.close();
});
