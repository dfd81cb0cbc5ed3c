// Pages of a room's history, for the WebSocket history command and the HTTP history routes.
// Callers authorise first; a page only reads.
import type { lomi, Room } from '@lomi/protocol';
import { badRequest } from './errors';
import type { History } from './history';
import { SeqSpace } from './holes';

const HISTORY_DEFAULT_LIMIT = 50;
const HISTORY_MAX_LIMIT = 200;

export interface PageRequest {
  afterSeq?: number | null;
  beforeSeq?: number | null;
  limit?: number | null;
}

export type Pager = ReturnType<typeof createPager>;

export function createPager(history: History) {
  return async function page(room: Room, request: PageRequest): Promise<lomi.chat.v1.IHistoryReply> {
    const limit = request.limit || HISTORY_DEFAULT_LIMIT;
    if (limit < 1 || limit > HISTORY_MAX_LIMIT || !Number.isInteger(limit)) throw badRequest(`limit must be 1–${HISTORY_MAX_LIMIT}`);
    const afterSeq = request.afterSeq ?? 0;
    const beforeSeq = request.beforeSeq ?? 0;
    if (afterSeq < 0 || beforeSeq < 0) throw badRequest('after_seq and before_seq must not be negative');
    const top = await history.top(room);
    // Each page is a window of seqs (from, until] holding `limit` seqs that may name a message:
    // seqs are consecutive but for the holes resets left, which a window steps over, so that
    // no page comes back empty while more follow.
    const space = new SeqSpace(await history.resetsFrom(room, afterSeq + 1, top));
    const newestFirst = beforeSeq > 0;
    const until = newestFirst ? Math.min(beforeSeq - 1, top.topSeq) : space.forward(afterSeq, limit, top.topSeq);
    const from = newestFirst ? space.backward(until, limit, afterSeq) : afterSeq;
    const messages = await history.read(room, from, until);
    return { room, messages, hasMore: newestFirst ? space.count(afterSeq, from) > 0 : space.count(until, top.topSeq) > 0 };
  };
}
