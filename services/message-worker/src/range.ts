// Gateways asking for a seq range: to fill a gap in their reorder buffer or to bring a joiner up
// to date. Gateways are trusted, so there is no user to authorise.
import { internal, type lomi } from '@lomi/protocol';
import type { WorkerContext } from './context';
import { decodeRequest, rejection } from './errors';
import type { History } from './history';
import { messageBudget, prefixWithin } from './payload';
import { validRoom } from './rooms';

export function createRangeHandler(ctx: WorkerContext, history: History) {
  async function answer(request: lomi.internal.v1.RangeRequest): Promise<lomi.internal.v1.IRangeReply> {
    const room = validRoom(request.room);
    const { topSeq, epoch } = await history.top(room);
    const limit = Math.min(request.limit || ctx.config.RECOVERY_MAX, ctx.config.RECOVERY_MAX);
    const until = Math.min(request.untilSeq || topSeq, topSeq, request.afterSeq + limit);
    const found = await history.read(room, request.afterSeq, until);
    // A reply cut short for size still starts at after_seq; the gateway asks again from its end.
    const messages = prefixWithin(found, messageBudget(ctx.nc));
    return { messages, topSeq, epoch, complete: found.length === Math.max(0, until - request.afterSeq) };
  }

  /** Decodes a RangeRequest and returns the encoded RangeReply; never throws. */
  return async function handleRange(data: Uint8Array): Promise<Uint8Array> {
    let reply: lomi.internal.v1.IRangeReply;
    try {
      reply = await answer(decodeRequest(internal.RangeRequest, data));
    } catch (err) {
      reply = { error: rejection(ctx, 'range', err) };
    }
    return internal.RangeReply.encode(reply).finish();
  };
}
