// A gateway's memory for slow readers is bounded as a whole, not only per socket: when the
// queues of all its sockets together pass GATEWAY_BUFFER_BUDGET_BYTES, the sockets furthest
// behind are closed with 4001 (reconnect and recover) while viewers that keep up stay connected.
import WebSocket from 'ws';
import { CloseCode, Encoding, WS_PATH } from '@lomi/client';
import { MessageLog, waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import { encodeClientFrame, decodeServerFrame, type Room } from '@lomi/protocol';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({
    gateways: 1,
    env: {
      // No socket reaches its own limit: only the gateway-wide budget can close them.
      SLOW_CONSUMER_BYTES: String(512 * 1024 * 1024),
      MAX_BACKPRESSURE_BYTES: String(1024 * 1024 * 1024),
      GATEWAY_BUFFER_BUDGET_BYTES: String(1024 * 1024),
      MAX_MESSAGE_LENGTH: '20000',
      MAX_FRAME_BYTES: String(64 * 1024),
    },
  });
});
afterAll(() => system.stop());

const closesOver = async (limit: string) =>
  (await system.gateways[0]!.metrics.slowConsumers.get()).values.filter((v) => v.labels.limit === limit).reduce((n, v) => n + v.value, 0);

/** A joined raw socket that stops reading at the TCP level until resumed. */
async function stalledViewer(room: Room, name: string) {
  const ws = new WebSocket(`${system.wsUrl()}${WS_PATH}`, [Encoding.PROTO], {
    headers: { authorization: `Bearer ${await system.token(system.user(name))}` },
  });
  await new Promise((resolve) => ws.once('open', resolve));
  const joined = new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(decodeServerFrame(new Uint8Array(data), Encoding.PROTO))));
  ws.send(encodeClientFrame({ requestId: 1, join: { room } }, Encoding.PROTO));
  await joined;
  const viewer = { closeCode: undefined as number | undefined, resume: () => socket.resume() };
  ws.once('close', (code) => (viewer.closeCode = code));
  const socket = (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();
  return viewer;
}

test('past the gateway budget the sockets furthest behind are closed with 4001; readers keep everything', async () => {
  const room = await system.createLiveRoom(system.user('b-budget'));
  const sender = await system.connect(system.user('firehose'));
  const reader = await system.connect(system.user('reader'));
  const log = new MessageLog(reader);
  await Promise.all([reader.join(room), sender.join(room)]);
  const stalled = await Promise.all([stalledViewer(room, 'sloth-1'), stalledViewer(room, 'sloth-2'), stalledViewer(room, 'sloth-3')]);

  // Kernel buffers absorb a few MB per socket before the gateway queues anything.
  const big = 'x'.repeat(19_000);
  let sent = 0;
  while ((await closesOver('gateway')) === 0) {
    if (sent >= 4000) throw new Error('the gateway never enforced its budget');
    await Promise.all(Array.from({ length: 20 }, () => sender.send(room, big)));
    sent += 20;
  }
  // Reading again, the closed ones get their close frame behind the data queued before it; every
  // close the gateway counted reaches a stalled socket as 4001, and no other socket is closed.
  for (const viewer of stalled) viewer.resume();
  // The reader kept up: still connected and every message arrived, in order.
  const received = await log.waitFor(room, sent);
  expect(received.map((m) => Number(m.seq))).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
  const isClosed = (v: { closeCode?: number }) => v.closeCode !== undefined;
  await waitFor(async () => stalled.filter(isClosed).length === (await closesOver('gateway')), 'a close frame for each close counted');
  const closed = stalled.filter(isClosed);
  expect(closed.length).toBeGreaterThan(0);
  for (const viewer of closed) expect(viewer.closeCode).toBe(CloseCode.SLOW_CONSUMER);
  expect(await closesOver('socket')).toBe(0);
  const metricsText = await (await fetch(`${system.metricsUrl()}/metrics`)).text();
  expect(metricsText).toMatch(/^lomi_gateway_buffered_bytes\{[^}]*\} \d+$/m);
});
