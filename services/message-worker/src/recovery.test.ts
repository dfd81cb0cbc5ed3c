// A joiner's recovery is all or nothing: it gets every message after its since_seq, across resets
// its epoch leads through, or it is told to reload. The joiners of a batch share one read.
import { chat, RoomKind, type ChatMessage, type lomi, type Room } from '@lomi/protocol';
import type { WorkerContext } from './context';
import type { History } from './history';
import { createRecovery, type Returning } from './recovery';
import type { RoomState } from './room-log';

const room: Room = { kind: RoomKind.ROOM_KIND_LIVE, id: 'r1' };
const ENVELOPE = 4096;

function setUp(seqs: number[], opts: { resets?: lomi.chat.v1.IRoomReset[]; recoveryMax?: number; budget?: number; content?: string } = {}) {
  const reads: [number, number][] = [];
  const history = {
    resetsFrom: async (_room: Room, from: number) => (opts.resets ?? []).filter((r) => Number(r.startSeq) >= from),
    read: async (_room: Room, after: number, until: number) => {
      reads.push([after, until]);
      return seqs.filter((s) => s > after && s <= until).map((seq) => chat.ChatMessage.create({ seq, content: opts.content ?? '' }) as ChatMessage);
    },
  } as unknown as History;
  const ctx = { config: { RECOVERY_MAX: opts.recoveryMax ?? 100 }, bus: { maxPayload: ENVELOPE + (opts.budget ?? 1_000_000) } } as unknown as WorkerContext;
  return { recover: createRecovery(ctx, history), reads };
}

const top = (topSeq: number, epoch = 'e1', epochStart = 0): RoomState => ({ epoch, topSeq, epochStart, previousLast: 0 });
const seqsOf = (messages: ChatMessage[]) => messages.map((m) => Number(m.seq));
const since = (sinceSeq: number, epoch = ''): Returning => ({ sinceSeq, epoch });

describe('recovery in one epoch', () => {
  it('gives each joiner what it missed from one shared read of the widest range', async () => {
    const { recover, reads } = setUp([1, 2, 3, 4, 5]);
    const result = await recover(room, [since(4), since(2), {}], top(5), 0);
    expect(result.recovered).toEqual([true, true, false]);
    expect(seqsOf(result.messages)).toEqual([3, 4, 5]);
    expect(reads).toEqual([[2, 5]]);
  });

  it('reads nothing when no joiner comes back from a seq the room has', async () => {
    const { recover, reads } = setUp([1, 2]);
    expect(await recover(room, [{}, since(7)], top(2), 0)).toEqual({ recovered: [false, false], messages: [] });
    expect(reads).toEqual([]);
  });

  it('recovers an up-to-date joiner with nothing to send', async () => {
    const { recover } = setUp([1, 2]);
    expect(await recover(room, [since(2)], top(2), 0)).toEqual({ recovered: [true], messages: [] });
  });

  it('refuses a gap longer than RECOVERY_MAX', async () => {
    const { recover } = setUp([1, 2, 3, 4, 5], { recoveryMax: 3 });
    const result = await recover(room, [since(1), since(2)], top(5), 0);
    expect(result.recovered).toEqual([false, true]);
    expect(seqsOf(result.messages)).toEqual([3, 4, 5]);
  });

  it('recovers nobody whose gap reaches a message history no longer has', async () => {
    const { recover } = setUp([1, 2, 3, 5, 6]);
    const result = await recover(room, [since(2), since(4)], top(6), 0);
    expect(result.recovered).toEqual([false, true]);
    expect(seqsOf(result.messages)).toEqual([5, 6]);
  });

  it('spends the reply budget from the newest message down', async () => {
    const content = 'x'.repeat(100);
    const size = chat.ChatMessage.encode({ seq: 5, content }).finish().length + 8;
    const { recover } = setUp([1, 2, 3, 4, 5], { content, budget: 2 * size + 50 });
    const result = await recover(room, [since(1), since(3)], top(5), 50);
    expect(result.recovered).toEqual([false, true]);
    expect(seqsOf(result.messages)).toEqual([4, 5]);
  });
});

describe('recovery across a reset', () => {
  // e1 kept seqs up to 3; e2 starts at 100 and holds 101–102.
  const resets = [{ epoch: 'e2', previousEpoch: 'e1', lastSeq: 3, startSeq: 100 }];
  const now = top(102, 'e2', 100);

  it('recovers a joiner of the previous epoch with the rest of it and the current one', async () => {
    const { recover } = setUp([1, 2, 3, 101, 102], { resets });
    const result = await recover(room, [since(2, 'e1')], now, 0);
    expect(result.recovered).toEqual([true]);
    expect(seqsOf(result.messages)).toEqual([3, 101, 102]);
  });

  it('does not count the hole against RECOVERY_MAX', async () => {
    const { recover } = setUp([1, 2, 3, 101, 102], { resets, recoveryMax: 3 });
    expect((await recover(room, [since(2, 'e1')], now, 0)).recovered).toEqual([true]);
  });

  it('refuses a joiner that saw a seq the reset lost', async () => {
    const { recover } = setUp([1, 2, 3, 101, 102], { resets });
    expect((await recover(room, [since(5, 'e1')], now, 0)).recovered).toEqual([false]);
  });

  it('refuses a joiner whose epoch the chain does not lead back to', async () => {
    const { recover } = setUp([1, 2, 3, 101, 102], { resets });
    expect((await recover(room, [since(2, 'elsewhere')], now, 0)).recovered).toEqual([false]);
  });
});
