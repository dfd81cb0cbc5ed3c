// Pages of history: windows of `limit` seqs, forward from after_seq or newest first before
// before_seq, stepping over the holes resets leave so that no page comes back empty while more follow.
import { chat, ErrorCode, RoomKind, type lomi, type Room } from '@lomi/protocol';
import type { History } from './history';
import { createPager } from './pages';
import type { RoomState } from './room-log';

const room: Room = { kind: RoomKind.ROOM_KIND_LIVE, id: 'r1' };

/** A room holding `seqs`, at `top`, with `resets`; records the spans read. */
function fakeHistory(seqs: number[], top: RoomState, resets: lomi.chat.v1.IRoomReset[] = []) {
  const reads: [number, number][] = [];
  const history = {
    top: async () => top,
    resetsFrom: async (_room: Room, from: number) => resets.filter((r) => Number(r.startSeq) >= from),
    read: async (_room: Room, after: number, until: number) => {
      reads.push([after, until]);
      return seqs.filter((s) => s > after && s <= until).map((seq) => chat.ChatMessage.create({ seq }));
    },
  } as unknown as History;
  return { history, reads };
}

const state = (topSeq: number, epochStart = 0): RoomState => ({ epoch: 'e', topSeq, epochStart, previousLast: 0 });
const seqsOf = (reply: lomi.chat.v1.IHistoryReply) => reply.messages!.map((m) => Number(m.seq));

describe('history pages in one epoch', () => {
  const { history } = fakeHistory([1, 2, 3, 4, 5], state(5));
  const page = createPager(history);

  it('pages forward from after_seq, saying whether more follow', async () => {
    const first = await page(room, { afterSeq: 0, limit: 3 });
    expect([seqsOf(first), first.hasMore]).toEqual([[1, 2, 3], true]);
    const second = await page(room, { afterSeq: 3, limit: 3 });
    expect([seqsOf(second), second.hasMore]).toEqual([[4, 5], false]);
  });

  it('pages newest first before before_seq, down to after_seq', async () => {
    const newest = await page(room, { beforeSeq: 6, limit: 2 });
    expect([seqsOf(newest), newest.hasMore]).toEqual([[4, 5], true]);
    const oldest = await page(room, { beforeSeq: 4, limit: 5 });
    expect([seqsOf(oldest), oldest.hasMore]).toEqual([[1, 2, 3], false]);
    const bounded = await page(room, { afterSeq: 2, beforeSeq: 5, limit: 1 });
    expect([seqsOf(bounded), bounded.hasMore]).toEqual([[4], true]);
  });

  it('never reads above the top, whatever before_seq says', async () => {
    const { history: h, reads } = fakeHistory([1, 2], state(2));
    await createPager(h)(room, { beforeSeq: 1_000_000, limit: 10 });
    expect(reads).toEqual([[0, 2]]);
  });

  it('takes 50 when no limit is given', async () => {
    const { history: h, reads } = fakeHistory([], state(1000));
    await createPager(h)(room, {});
    expect(reads).toEqual([[0, 50]]);
  });

  it.each([
    [{ limit: 201 }, 'limit must be 1–200'],
    [{ limit: -1 }, 'limit must be 1–200'],
    [{ limit: 2.5 }, 'limit must be 1–200'],
    [{ afterSeq: -1 }, 'after_seq and before_seq must not be negative'],
    [{ beforeSeq: -3 }, 'after_seq and before_seq must not be negative'],
  ])('refuses %p', async (request, message) => {
    await expect(page(room, request)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST, message });
  });
});

describe('history pages across a reset', () => {
  // Seqs 1–3 before the reset, (3, 100] a hole, 101–102 after it.
  const reset = { epoch: 'e2', previousEpoch: 'e1', lastSeq: 3, startSeq: 100 };
  const { history } = fakeHistory([1, 2, 3, 101, 102], state(102, 100), [reset]);
  const page = createPager(history);

  it('fills a forward page from both sides of the hole', async () => {
    const first = await page(room, { afterSeq: 0, limit: 4 });
    expect([seqsOf(first), first.hasMore]).toEqual([[1, 2, 3, 101], true]);
    const rest = await page(room, { afterSeq: 3, limit: 4 });
    expect([seqsOf(rest), rest.hasMore]).toEqual([[101, 102], false]);
  });

  it('fills a newest-first page from both sides of the hole', async () => {
    const newest = await page(room, { beforeSeq: 103, limit: 3 });
    expect([seqsOf(newest), newest.hasMore]).toEqual([[3, 101, 102], true]);
    const older = await page(room, { beforeSeq: 101, limit: 3 });
    expect([seqsOf(older), older.hasMore]).toEqual([[1, 2, 3], false]);
  });
});
