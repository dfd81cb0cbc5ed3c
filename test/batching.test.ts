// A busy room's messages reach each socket as batch pushes (several messages in one frame), in
// seq order, with nothing lost; the window a gateway waits grows with the room's local sockets.
import { rawViewer, startSystem, waitFor, type TestSystem } from '@lomi/testkit';

let system: TestSystem;

beforeAll(async () => {
  // 5 sockets at 100 frames/s make a 50 ms window, as 625 sockets would at the default budget.
  system = await startSystem({ gateways: 1, messageWorkers: 1, env: { BATCH_FRAMES_PER_S: '100', BATCH_WINDOW_MS: '50' } });
});
afterAll(() => system.stop());

test('40 messages sent one after another reach every socket in order, batched by the window', async () => {
  const room = await system.createLiveRoom(system.user('batch-host'));
  const viewers = await Promise.all(Array.from({ length: 5 }, (_, i) => rawViewer(system, `batch-viewer-${i}`, room)));
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
