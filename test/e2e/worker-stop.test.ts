// A message worker stopped in the middle of a stream of sends (a rolling deploy): every send
// it acknowledged still reaches the viewers live, with no later message needed to reveal a gap.
import { MessageLog } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 1, messageWorkers: 2 });
});
afterAll(() => system.stop());

test('every send acknowledged before or during a worker stop is delivered', async () => {
  const room = await system.createLiveRoom('stop-host');
  const sender = await system.connect('stop-sender');
  const viewer = await system.connect('stop-viewer');
  const log = new MessageLog(viewer);
  await Promise.all([sender.join(room), viewer.join(room)]);

  // 200 sends in flight at once; one of the two workers stops while they are being answered.
  const sends = Array.from({ length: 200 }, (_, i) => sender.send(room, `m-${i}`));
  await new Promise((resolve) => setTimeout(resolve, 5));
  await system.workers.shift()!.stop();
  const outcomes = await Promise.allSettled(sends);
  const acked = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [Number(o.value.seq)] : []));
  expect(acked.length).toBeGreaterThan(0);

  const delivered = await log.waitFor(room, acked.length);
  expect(new Set(delivered.map((m) => Number(m.seq)))).toEqual(new Set(acked));
});
