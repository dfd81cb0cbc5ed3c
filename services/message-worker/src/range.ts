// Gateways asking for a seq range: to fill a gap in their reorder buffer or to bring a joiner up
// to date. Gateways are trusted, so there is no user to authorise.
import { internal, type lomi } from '@lomi/protocol';
import type { WorkerContext } from './context';
import { replyHandler } from './errors';
import type { History } from './history';
import { SeqSpace } from './holes';
import { messageBudget, prefixWithin } from './payload';
import { validRoom } from './rooms';

export function createRangeHandler(ctx: WorkerContext, history: History) {
  async function answer(request: lomi.internal.v1.RangeRequest): Promise<lomi.internal.v1.IRangeReply> {
    const room = validRoom(request.room);
    const after = Number(request.afterSeq);
    const top = await history.top(room);
    // The resets from after_seq up: the gateway applies those it missed, and their holes are
    // seqs that name nothing, neither counted against the limit nor missing from a complete reply.
    const resets = await history.resetsFrom(room, after, top);
    const space = new SeqSpace(resets);
    const limit = Math.min(request.limit || ctx.config.RECOVERY_MAX, ctx.config.RECOVERY_MAX);
    const until = space.forward(after, limit, Math.min(Number(request.untilSeq) || top.topSeq, top.topSeq));
    const found = (await history.read(room, after, until)).filter((m) => !space.inHole(m.seq));
    // A reply cut short for size still starts at after_seq; the gateway asks again from its end.
    const messages = prefixWithin(found, messageBudget(ctx.bus));
    const cut = messages.length < found.length;
    return {
      messages,
      topSeq: top.topSeq,
      epoch: top.epoch,
      epochStartSeq: top.epochStart,
      resets,
      complete: found.length === space.count(after, until),
      untilSeq: cut ? (messages[messages.length - 1]?.seq ?? after) : until,
    };
  }

  return replyHandler(ctx, 'range', internal.RangeRequest, internal.RangeReply, answer);
}
