// Reconnecting with the last seen seq — to any gateway — recovers exactly the missed messages,
// then live messages continue with no gap and no duplicate at the seam.
import { MessageLog, waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 2, messageWorkers: 2 });
});
afterAll(() => system.stop());

test('a viewer that reconnects to the other gateway with since_seq gets exactly what it missed', async () => {
  const room = await system.createLiveRoom('b-recover');
  const sender = await system.connect('talker', { gateway: 0 });
  await sender.join(room);
  let viewer = await system.connect('returner', { gateway: 0 });
  let log = new MessageLog(viewer);
  const first = await viewer.join(room);
  for (let i = 1; i <= 5; i++) await sender.send(room, `before-${i}`);
  await log.waitFor(room, 5);
  const lastSeq = viewer.lastSeqOf(room)!;
  expect(lastSeq).toBe(5);
  await viewer.close();

  for (let i = 1; i <= 7; i++) await sender.send(room, `missed-${i}`);

  viewer = await system.connect('returner', { gateway: 1 });
  log = new MessageLog(viewer);
  const rejoined = await viewer.join(room, { sinceSeq: lastSeq, epoch: first.epoch! });
  expect(rejoined.recovered).toBe(true);
  expect(rejoined.epoch).toBe(first.epoch);
  expect(rejoined.messages!.map((m) => m.content)).toEqual(Array.from({ length: 7 }, (_, i) => `missed-${i + 1}`));
  expect(rejoined.messages!.map((m) => Number(m.seq))).toEqual([6, 7, 8, 9, 10, 11, 12]);

  await sender.send(room, 'live-again');
  const [live] = await log.waitFor(room, 1);
  expect(live!.content).toBe('live-again');
  expect(Number(live!.seq)).toBe(13);
});

test('recovery while messages keep flowing leaves no gap and no duplicate at the seam', async () => {
  const room = await system.createLiveRoom('b-seam');
  const sender = await system.connect('streamer', { gateway: 0 });
  const steady = await system.connect('steady', { gateway: 1 });
  const steadyLog = new MessageLog(steady);
  await sender.join(room);
  await steady.join(room);

  const total = 300;
  const sending = (async () => {
    for (let i = 1; i <= total; i++) await sender.send(room, `n-${i}`);
  })();
  // Join mid-stream, with recovery from seq 0, on the gateway that already carries the room.
  await steadyLog.waitFor(room, 50);
  const late = await system.connect('late', { gateway: 1 });
  const lateLog = new MessageLog(late);
  const joined = await late.join(room, { sinceSeq: 0 });
  expect(joined.recovered).toBe(true);
  await sending;
  await lateLog.waitFor(room, total - joined.messages!.length);
  const seen = [...joined.messages!.map((m) => Number(m.seq)), ...lateLog.seqs(room)];
  expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  // Two sockets' frames reach this process in no fixed order: the steady one may still be reading.
  await steadyLog.waitFor(room, total);
  expect(steadyLog.seqs(room)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
});

test('40 viewers joining at once while messages flow each continue exactly after their top seq', async () => {
  // The joins of a burst share their reads of the room (top seq, pin, viewer count); each must
  // still be read after its own request arrived, or a message between would be lost to it.
  const room = await system.createLiveRoom('b-burst');
  const sender = await system.connect('burst-talker', { gateway: 0 });
  await sender.join(room);
  const total = 200;
  let sent = 0;
  const sending = (async () => {
    for (; sent < total;) {
      await sender.send(room, `m-${sent + 1}`);
      sent += 1;
    }
  })();
  await waitFor(() => sent >= 20, 'the first messages');
  const viewers = await Promise.all(Array.from({ length: 40 }, (_, i) => system.connect(`burst-${i}`, { gateway: i % 2 })));
  const logs = viewers.map((v) => new MessageLog(v));
  const joined = await Promise.all(viewers.map((v) => v.join(room)));
  await sending;
  const tops = joined.map((j) => Number(j.topSeq));
  expect(Math.min(...tops)).toBeGreaterThanOrEqual(20);
  expect(Math.max(...tops)).toBeLessThan(total);
  await Promise.all(logs.map((log, i) => log.waitFor(room, total - tops[i]!)));
  logs.forEach((log, i) => expect(log.seqs(room)).toEqual(Array.from({ length: total - tops[i]! }, (_, k) => tops[i]! + k + 1)));
});
