// A retried send (same client_msg_id) is stored once and acked with the same seq.
import { MessageLog } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 2, messageWorkers: 2 });
});
afterAll(() => system.stop());

test('the same client_msg_id sent three times, over two gateways, is stored once', async () => {
  const room = await system.createLiveRoom('b-dedup');
  const first = await system.connect('retrier', { gateway: 0 });
  const watcher = await system.connect('watcher', { gateway: 1 });
  const log = new MessageLog(watcher);
  await Promise.all([watcher.join(room), first.join(room)]);

  const ack1 = await first.send(room, 'only once', 'cmid-1');
  const ack2 = await first.send(room, 'only once', 'cmid-1');
  const second = await system.connect('retrier', { gateway: 1 });
  await second.join(room);
  const ack3 = await second.send(room, 'only once', 'cmid-1');
  await first.send(room, 'next', 'cmid-2');

  expect(ack1.duplicate).toBeFalsy();
  expect(ack2.duplicate).toBe(true);
  expect(ack3.duplicate).toBe(true);
  expect(Number(ack2.seq)).toBe(Number(ack1.seq));
  expect(Number(ack3.seq)).toBe(Number(ack1.seq));
  expect(ack2.id).toBe(ack1.id);

  const got = await log.waitFor(room, 2);
  expect(got.map((m) => m.content)).toEqual(['only once', 'next']);
  const history = await watcher.history(room);
  expect(history.messages!.map((m) => m.clientMsgId)).toEqual(['cmid-1', 'cmid-2']);
});

test('the same client_msg_id from two different users is two messages', async () => {
  const room = await system.createLiveRoom('b-dedup2');
  const a = await system.connect('ua');
  const b = await system.connect('ub');
  await Promise.all([a.join(room), b.join(room)]);
  const ackA = await a.send(room, 'a', 'same');
  const ackB = await b.send(room, 'b', 'same');
  expect(Number(ackB.seq)).toBe(Number(ackA.seq) + 1);
});
