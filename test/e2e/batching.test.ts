// A busy room's messages reach each socket as batch pushes (several messages in one frame), in
// seq order, with nothing lost; the window a gateway waits grows with the room's local sockets.
import { Encoding } from '@lomi/client';
import { MessageLog, rawViewer, waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

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
  const metrics = await (await fetch(`${system.metricsUrl()}/metrics`)).text();
  const total = (name: string) => Number(metrics.match(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm'))?.[1]);
  expect(total('lomi_gateway_deliveries_total')).toBeGreaterThan(2 * total('lomi_gateway_push_frames_total'));
});

// A JSON message is longer than its protobuf, so each encoding's frames are cut at 16 KB of their own bytes.
test.each([Encoding.PROTO, Encoding.JSON])('a burst of long messages is split into batch frames of at most 16 KB, in order (%s)', async (encoding) => {
  // Bigger frames go through uWS's backpressure buffer, which cost a gateway two thirds of its
  // throughput under load (see fan-out.ts).
  const room = await system.createLiveRoom(system.user(`long-host-${encoding}`));
  const viewers = await Promise.all(Array.from({ length: 5 }, (_, i) => rawViewer(system, `long-viewer-${encoding}-${i}`, room, { encoding })));
  const sender = await system.connect(system.user(`long-sender-${encoding}`));
  await sender.join(room);

  const acks = await Promise.all(Array.from({ length: 60 }, (_, i) => sender.send(room, `${i} `.padEnd(500, 'x'))));
  const seqs = acks.map((a) => Number(a.seq)).sort((a, b) => a - b);
  for (const viewer of viewers) {
    await waitFor(() => viewer.messages().length >= 60, 'all 60 messages');
    expect(viewer.messages().map((m) => Number(m.seq))).toEqual(seqs);
    const sizes = viewer.pushBytes();
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16 * 1024 + 64);
    // Still batched: 60 messages of about 600 bytes fit in a handful of frames.
    expect(sizes.length).toBeLessThanOrEqual(15);
    viewer.ws.close();
  }
});

test('a batch names its room once, and the client SDK gives each of its messages that room', async () => {
  const room = await system.createLiveRoom(system.user('named-host'));
  const raw = await rawViewer(system, 'named-raw', room);
  const viewer = await system.connect(system.user('named-viewer'));
  const log = new MessageLog(viewer);
  await viewer.join(room);
  const sender = await system.connect(system.user('named-sender'));
  await sender.join(room);

  await Promise.all(Array.from({ length: 10 }, (_, i) => sender.send(room, `named ${i}`)));
  await waitFor(() => raw.pushes().reduce((n, f) => n + (f.batch?.messages?.length ?? 1), 0) >= 10, 'all 10 messages');
  const batches = raw.pushes().filter((f) => f.batch);
  expect(batches.length).toBeGreaterThan(0);
  for (const { batch } of batches) {
    expect(batch!.room).toMatchObject({ kind: room.kind, id: room.id });
    for (const m of batch!.messages!) expect(m.room).toBeNull();
  }
  // The SDK files messages by their room: all ten are found there.
  const received = await log.waitFor(room, 10);
  expect(received.map((m) => m.content).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `named ${i}`).sort());
  raw.ws.close();
});

test("operators see how long messages waited for the gateway's write, the batch window included", async () => {
  // A private room: one socket group, and no join messages, so every message is counted once.
  const [a, b] = [system.user('delay-a'), system.user('delay-b')];
  const room = await system.createPrivateRoom(a, b);
  const [alice, bob] = [await system.connect(a), await system.connect(b)];
  const log = new MessageLog(bob);
  await alice.join(room);
  await bob.join(room);
  const histogram = async () => {
    const text = await (await fetch(`${system.metricsUrl()}/metrics`)).text();
    const value = (series: string, le = '') => Number(text.match(new RegExp(`^lomi_gateway_fanout_delay_seconds_${series}\\{${le}[^}]*\\} (\\S+)$`, 'm'))?.[1]);
    return { count: value('count'), sum: value('sum'), underOneSecond: value('bucket', 'le="1",') };
  };
  const before = await histogram();

  for (let i = 0; i < 20; i++) await alice.send(room, `delay ${i}`);
  await log.waitFor(room, 20);

  const after = await histogram();
  expect(after.count - before.count).toBe(20);
  expect(after.underOneSecond - before.underOneSecond).toBe(20);
  // Storage and NATS take a millisecond or two; the rest is the 20 ms window of a hot 2-socket room.
  const meanMs = ((after.sum - before.sum) / 20) * 1000;
  expect(meanMs).toBeGreaterThan(3);
  expect(meanMs).toBeLessThan(1000);
});
