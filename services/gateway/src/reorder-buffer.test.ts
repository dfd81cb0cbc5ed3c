import { Registry, type Counter } from 'prom-client';
import { createLogger } from '@lomi/service-runtime';
import { internal, RoomKind, type ChatMessage, type lomi } from '@lomi/protocol';
import { createGatewayMetrics } from './metrics';
import { ReorderBuffer, type Ordered, type RoomReset } from './reorder-buffer';

const GAP_WAIT_MS = 50;
const room = { kind: RoomKind.ROOM_KIND_LIVE, id: 'r1' };

const message = (seq: number): ChatMessage => ({ seq, room, content: `m${seq}`, createdAtMs: 0 });
const reset = (previousEpoch: string, epoch: string, lastSeq: number, startSeq: number): RoomReset => ({ room, previousEpoch, epoch, lastSeq, startSeq });
const count = async (counter: Counter) => (await counter.get()).values[0]?.value ?? 0;

/** A buffer whose range requests are answered by `range` (or never, by default), and what it put out. */
function setUp(range: (req: lomi.internal.v1.IRangeRequest) => Promise<lomi.internal.v1.RangeReply> = () => new Promise(() => undefined)) {
  const out: Ordered[] = [];
  const metrics = createGatewayMetrics(new Registry());
  const workers = { range: jest.fn(range) };
  const buffer = new ReorderBuffer({ room, workers, metrics, log: createLogger('test', 'silent'), gapWaitMs: GAP_WAIT_MS, deliver: (e) => out.push(e) });
  /** What came out, as seqs and `reset:<epoch>`. */
  const seen = () => out.map((e) => ('message' in e ? Number(e.message.seq) : `reset:${e.reset.epoch}`));
  const offer = (...seqs: number[]) => seqs.forEach((seq) => buffer.offer(message(seq)));
  return { buffer, workers, metrics, seen, offer };
}

const rangeReply = (props: Partial<lomi.internal.v1.RangeReply>) => internal.RangeReply.create({ complete: true, ...props });

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('messages in seq order go out at once; those offered before start() wait for it', () => {
  const { buffer, seen, offer } = setUp();
  offer(4, 6, 5);
  expect(seen()).toEqual([]);
  buffer.start(4, 'e1', 0);
  expect(seen()).toEqual([5, 6]);
  buffer.offer(message(7));
  expect(seen()).toEqual([5, 6, 7]);
});

test('a message after a gap is held until the missing one arrives, without asking the workers', async () => {
  const { buffer, workers, seen, offer } = setUp();
  buffer.start(0, 'e1', 0);
  offer(1, 3, 4);
  expect(seen()).toEqual([1]);
  buffer.offer(message(2));
  expect(seen()).toEqual([1, 2, 3, 4]);
  await jest.advanceTimersByTimeAsync(GAP_WAIT_MS * 10);
  expect(workers.range).not.toHaveBeenCalled();
});

test('a gap still open after the gap wait is fetched from the workers', async () => {
  const { buffer, workers, metrics, seen } = setUp(async () => rangeReply({ messages: [message(2), message(3)], untilSeq: 3 }));
  buffer.start(0, 'e1', 0);
  buffer.offer(message(1));
  buffer.offer(message(4));
  await jest.advanceTimersByTimeAsync(GAP_WAIT_MS - 1);
  expect(workers.range).not.toHaveBeenCalled();
  await jest.advanceTimersByTimeAsync(1);
  expect(workers.range).toHaveBeenCalledWith({ room, afterSeq: 1, untilSeq: 3, limit: 1000 });
  expect(seen()).toEqual([1, 2, 3, 4]);
  expect(await count(metrics.gapFills)).toBe(1);
});

test('a failed fill is retried after a wait that doubles with each failure, and resets once one succeeds', async () => {
  let failures = 2;
  const { buffer, workers, seen } = setUp(async () => {
    if (failures-- > 0) throw new Error('no responders');
    return rangeReply({ messages: [message(1)], untilSeq: 1 });
  });
  buffer.start(0, 'e1', 0);
  buffer.offer(message(2));
  await jest.advanceTimersByTimeAsync(GAP_WAIT_MS);
  expect(workers.range).toHaveBeenCalledTimes(1);
  await jest.advanceTimersByTimeAsync(GAP_WAIT_MS * 2 - 1);
  expect(workers.range).toHaveBeenCalledTimes(1);
  await jest.advanceTimersByTimeAsync(1);
  expect(workers.range).toHaveBeenCalledTimes(2);
  await jest.advanceTimersByTimeAsync(GAP_WAIT_MS * 4);
  expect(workers.range).toHaveBeenCalledTimes(3);
  expect(seen()).toEqual([1, 2]);
  // The next gap waits the plain gap wait again.
  buffer.offer(message(4));
  await jest.advanceTimersByTimeAsync(GAP_WAIT_MS);
  expect(workers.range).toHaveBeenCalledTimes(4);
});

test('a refused range request counts as a failed fill', async () => {
  const { buffer, workers } = setUp(async () => rangeReply({ error: { code: 1, message: 'refused' } }));
  buffer.start(0, 'e1', 0);
  buffer.offer(message(2));
  await jest.advanceTimersByTimeAsync(GAP_WAIT_MS + GAP_WAIT_MS * 2);
  expect(workers.range).toHaveBeenCalledTimes(2);
});

test('a range stored nowhere any more is skipped and counted', async () => {
  const { buffer, metrics, seen } = setUp(async () => rangeReply({ complete: false, messages: [], untilSeq: 4 }));
  buffer.start(0, 'e1', 0);
  buffer.offer(message(5));
  await jest.advanceTimersByTimeAsync(GAP_WAIT_MS);
  expect(seen()).toEqual([5]);
  expect(await count(metrics.unrecoverableGaps)).toBe(1);
});

test('a message already put in order is dropped and counted as a duplicate', async () => {
  const { buffer, metrics, seen, offer } = setUp();
  buffer.start(0, 'e1', 0);
  offer(1, 2, 1, 2);
  expect(seen()).toEqual([1, 2]);
  expect(await count(metrics.duplicateMessages)).toBe(2);
});

test("a reset goes out after the previous epoch's last message, and the new epoch follows from its start", () => {
  const { buffer, seen } = setUp();
  buffer.start(0, 'e1', 0);
  buffer.offerReset(reset('e1', 'e2', 2, 10));
  buffer.offer(message(11));
  buffer.offer(message(1));
  expect(seen()).toEqual([1]);
  buffer.offer(message(2));
  expect(seen()).toEqual([1, 2, 'reset:e2', 11]);
  expect([buffer.epoch, buffer.epochStart]).toEqual(['e2', 10]);
});

test('a reset that does not follow on from the known epoch makes the buffer ask the workers at once', async () => {
  const missed = reset('e1', 'e2', 0, 10);
  const { buffer, workers, seen } = setUp(async () => rangeReply({ epoch: 'e3', resets: [missed, reset('e2', 'e3', 10, 20)], untilSeq: 0 }));
  buffer.start(0, 'e1', 0);
  buffer.offerReset(reset('e2', 'e3', 10, 20));
  await jest.advanceTimersByTimeAsync(0);
  expect(workers.range).toHaveBeenCalledWith({ room, afterSeq: 0, untilSeq: 0, limit: 1 });
  expect(seen()).toEqual(['reset:e2', 'reset:e3']);
});

test('a probe asks the workers about the room once started, gap or not', async () => {
  const { buffer, workers } = setUp(async () => rangeReply({ epoch: 'e1', untilSeq: 3 }));
  buffer.probe();
  await jest.advanceTimersByTimeAsync(0);
  expect(workers.range).not.toHaveBeenCalled();
  buffer.start(3, 'e1', 0);
  buffer.probe();
  await jest.advanceTimersByTimeAsync(0);
  expect(workers.range).toHaveBeenCalledWith({ room, afterSeq: 3, untilSeq: 3, limit: 1 });
});

test('a disposed buffer fetches nothing', async () => {
  const { buffer, workers } = setUp();
  buffer.start(0, 'e1', 0);
  buffer.offer(message(2));
  buffer.dispose();
  buffer.probe();
  await jest.advanceTimersByTimeAsync(GAP_WAIT_MS * 10);
  expect(workers.range).not.toHaveBeenCalled();
});
