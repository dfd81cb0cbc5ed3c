// A busy room's messages reach each socket as batch pushes (several messages in one frame), in
// seq order, with nothing lost; the window a gateway waits grows with the room's local sockets.
import WebSocket from 'ws';
import { Encoding, WS_PATH } from '@lomi/client';
import { decodeServerFrame, encodeClientFrame, type lomi, type Room } from '@lomi/protocol';
import { startSystem, waitFor, type TestSystem } from '@lomi/testkit';

let system: TestSystem;

beforeAll(async () => {
  // 5 sockets at 100 frames/s make a 50 ms window, as 625 sockets would at the default budget.
  system = await startSystem({ gateways: 1, messageWorkers: 1, env: { BATCH_FRAMES_PER_S: '100', BATCH_WINDOW_MS: '50' } });
});
afterAll(() => system.stop());

/** A viewer on a bare WebSocket, so the test sees frames as the gateway sent them. */
async function rawViewer(name: string, room: Room) {
  const ws = new WebSocket(`${system.wsUrl()}${WS_PATH}`, [Encoding.PROTO], {
    headers: { authorization: `Bearer ${await system.token(system.user(name))}` },
  });
  const frames: lomi.chat.v1.ServerFrame[] = [];
  ws.on('message', (data: Buffer) => frames.push(decodeServerFrame(new Uint8Array(data), Encoding.PROTO)));
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(encodeClientFrame({ requestId: 1, join: { room } }, Encoding.PROTO));
  await waitFor(() => frames.some((f) => f.joined), `${name} joined`);
  const pushes = () => frames.filter((f) => f.message || f.batch);
  const messages = () => pushes().flatMap((f) => (f.batch ? f.batch.messages ?? [] : [f.message!]));
  return { ws, pushes, messages };
}

test('40 messages sent one after another reach every socket in order, batched by the window', async () => {
  const room = await system.createLiveRoom(system.user('batch-host'));
  const viewers = await Promise.all(Array.from({ length: 5 }, (_, i) => rawViewer(`batch-viewer-${i}`, room)));
  const sender = await system.connect(system.user('batch-sender'));
  await sender.join(room);

  // Each send waits for its ack, so messages reach the gateway milliseconds apart: only the
  // window, not a shared event-loop turn, can put them in one frame.
  const seqs: number[] = [];
  for (let i = 0; i < 40; i++) seqs.push(Number((await sender.send(room, `burst ${i}`)).seq));
  for (const viewer of viewers) {
    await waitFor(() => viewer.messages().length >= 40, 'all 40 messages');
    expect(viewer.messages().map((m) => Number(m.seq))).toEqual(seqs);
    expect(viewer.pushes().some((f) => (f.batch?.messages?.length ?? 0) > 1)).toBe(true);
    expect(viewer.pushes().length).toBeLessThanOrEqual(20);
    viewer.ws.close();
  }
  // Operators read messages per frame off the gateway's metrics.
  const metrics = await (await fetch(`${system.httpUrl()}/metrics`)).text();
  const total = (name: string) => Number(metrics.match(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm'))?.[1]);
  expect(total('lomi_gateway_deliveries_total')).toBeGreaterThan(2 * total('lomi_gateway_push_frames_total'));
});
