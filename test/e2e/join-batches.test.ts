// A gateway sends the joins of a room that arrive together as one request, but every joiner
// still gets its own answer: its own refusal, its own receipts, exactly the messages after its
// own since_seq, and no recovery when its gap does not fit a reply — as if it had joined alone.
import { ErrorCode, type LomiClient } from '@lomi/client';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 1 });
});
afterAll(() => system.stop());

const seqsOf = (reply: { messages?: { seq?: number | null }[] | null }) => (reply.messages ?? []).map((m) => Number(m.seq));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('joiners of a live room arriving together each recover exactly their own gap', async () => {
  const room = await system.createLiveRoom(system.user('caster'));
  const sender = await system.connect(system.user('sender'));
  const { epoch } = await sender.join(room);
  for (let i = 1; i <= 30; i++) await sender.send(room, `m${i}`);
  const clients = await Promise.all(['far', 'near', 'current', 'ahead', 'stale', 'fresh'].map((n) => system.connect(system.user(n))));
  const [far, near, current, ahead, stale, fresh] = await Promise.all([
    clients[0]!.join(room, { sinceSeq: 0, epoch: epoch! }),
    clients[1]!.join(room, { sinceSeq: 25, epoch: epoch! }),
    clients[2]!.join(room, { sinceSeq: 30, epoch: epoch! }),
    clients[3]!.join(room, { sinceSeq: 31, epoch: epoch! }),
    clients[4]!.join(room, { sinceSeq: 10, epoch: 'another-epoch' }),
    clients[5]!.join(room),
  ]);
  expect([far, near, current].map((r) => r.recovered)).toEqual([true, true, true]);
  expect(seqsOf(far)).toEqual(range(1, 30));
  expect(seqsOf(near)).toEqual(range(26, 30));
  expect(seqsOf(current)).toEqual([]);
  // Past the top, another epoch, no since_seq: nothing to recover from.
  expect([ahead, stale, fresh].map((r) => [r.recovered, seqsOf(r)])).toEqual([
    [false, []],
    [false, []],
    [false, []],
  ]);
  for (const reply of [far, near, current, ahead, stale, fresh]) expect([Number(reply.topSeq), reply.epoch]).toEqual([30, epoch]);
});

test('joiners of a private room arriving together are refused or answered one by one', async () => {
  const [a, b] = [system.user('pa'), system.user('pb')];
  const room = await system.createPrivateRoom(a, b);
  const [clientA, clientB, stranger] = await Promise.all([a, b, system.user('stranger')].map((u) => system.connect(u)));
  await clientA!.send(room, 'hello');
  await clientA!.markRead(room, 1);
  const [joinedA, joinedB, refused] = await Promise.allSettled([clientA!.join(room), clientB!.join(room), stranger!.join(room)]);
  expect(refused).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.ERROR_CODE_FORBIDDEN } });
  // Each member sees the receipts from their own side.
  expect(joinedA).toMatchObject({ status: 'fulfilled', value: { readState: { myReadSeq: 1, unreadCount: 0 } } });
  expect(joinedB).toMatchObject({ status: 'fulfilled', value: { readState: { otherReadSeq: 1, unreadCount: 1 } } });
});

test('a gap too big for one reply is not recovered, while the joiners beside it whose gaps fit are', async () => {
  const room = await system.createLiveRoom(system.user('big-caster'));
  const sender = await system.connect(system.user('big-sender'));
  const { epoch } = await sender.join(room);
  // 700 messages of 500 four-byte characters: about 1.4 MB, more than one NATS reply carries.
  const text = '😀'.repeat(500);
  for (let i = 0; i < 700; i += 50) await Promise.all(range(i + 1, i + 50).map((n) => sender.send(room, text, `big-${n}`)));
  const clients: LomiClient[] = await Promise.all(['big-far', 'big-near'].map((n) => system.connect(system.user(n))));
  const [far, near] = await Promise.all([clients[0]!.join(room, { sinceSeq: 0, epoch: epoch! }), clients[1]!.join(room, { sinceSeq: 600, epoch: epoch! })]);
  expect([far.recovered, seqsOf(far)]).toEqual([false, []]);
  expect([near.recovered, seqsOf(near)]).toEqual([true, range(601, 700)]);
});
