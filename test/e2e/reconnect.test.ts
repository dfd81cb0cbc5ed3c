// The SDK outlives its gateway: when the gateway goes away, the client reconnects to another,
// joins its rooms again with the last seq it saw, and the app sees every message once, in order.
import WebSocket from 'ws';
import { CloseCode, Encoding, LomiClient } from '@lomi/client';
import { MessageLog } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 3, messageWorkers: 2 });
});
afterAll(() => system.stop());

test('a gateway shutting down sends its clients to another gateway with nothing missed', async () => {
  const room = await system.createLiveRoom('b-reconnect');
  const sender = await system.connect('narrator', { gateway: 2 });
  const viewer = await LomiClient.connect({
    url: [system.wsUrl(0), system.wsUrl(1)],
    token: await system.token('wanderer'),
    encoding: Encoding.JSON,
    WebSocket: WebSocket as never,
  });
  const log = new MessageLog(viewer);
  const reconnects: number[] = [];
  viewer.on('reconnecting', (_attempt, _delay, code) => reconnects.push(code));
  const reconnected = new Promise<void>((resolve) => viewer.on('reconnected', resolve));
  await Promise.all([viewer.join(room), sender.join(room)]);
  for (let i = 1; i <= 5; i++) await sender.send(room, `before-${i}`);
  await log.waitFor(room, 5);

  const gone = system.gateways.splice(0, 1)[0]!;
  const stopping = gone.stop();
  // Sent while the viewer is between gateways.
  for (let i = 1; i <= 10; i++) await sender.send(room, `between-${i}`);
  await stopping;
  await reconnected;
  for (let i = 1; i <= 5; i++) await sender.send(room, `after-${i}`);

  const got = await log.waitFor(room, 20);
  expect(got.map((m) => Number(m.seq))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  expect(got.map((m) => m.content).slice(4, 7)).toEqual(['before-5', 'between-1', 'between-2']);
  expect(reconnects[0]).toBe(CloseCode.SHUTDOWN);
  await viewer.close();
});
