// Joiners' recoveries: every message each one missed since its `since_seq`, all or nothing — a
// client given part of the gap would believe it had all of it. Across a reset too: the client's
// epoch must be in the room's chain and the client must not have seen a message the reset lost;
// then the missed messages are the rest of its epoch, every later epoch, and the current one up
// to the top. The joiners of a batch share one read of the widest range any of them may recover.
import type { ChatMessage, lomi, Room } from '@lomi/protocol';
import type { WorkerContext } from './context';
import type { History } from './history';
import { SeqSpace } from './holes';
import type { RoomState } from './room-log';
import { messageBudget, prefixWithin } from './payload';

/** Where a joiner comes back from: as in JoinRoom ('' epoch = the current one). */
export type Returning = Pick<lomi.internal.v1.IJoinBatchJoiner, 'sinceSeq' | 'epoch'>;

export interface Recoveries {
  /** One per joiner, in order. */
  recovered: boolean[];
  /** In seq order, ending at the top: a recovered joiner's messages are those after its since_seq. */
  messages: ChatMessage[];
}

export type Recover = ReturnType<typeof createRecovery>;

/** How many of `messages` (in seq order) come after `seq`. */
function countAfter(messages: ChatMessage[], seq: number): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Number(messages[mid]!.seq) <= seq) lo = mid + 1;
    else hi = mid;
  }
  return messages.length - lo;
}

/** The longest run of `messages` that ends at `topSeq` with no seq missing outside the holes. */
function completeTail(messages: ChatMessage[], topSeq: number, space: SeqSpace): ChatMessage[] {
  let expected = space.atOrBelow(topSeq);
  let i = messages.length - 1;
  while (i >= 0 && Number(messages[i]!.seq) === expected) {
    i -= 1;
    expected = space.atOrBelow(expected - 1);
  }
  return messages.slice(i + 1);
}

export function createRecovery(ctx: WorkerContext, history: History) {
  const { config, bus } = ctx;

  /**
   * Decides every joiner's recovery against the room as `top` describes it, reading (lowest
   * since_seq, top] once. The messages are kept from the top down within the NATS message budget
   * less `replyBytes` of everything else in the reply; a joiner whose gap reaches further back is
   * told to reload, as it would be alone.
   */
  return async function recover(room: Room, joiners: Returning[], top: RoomState, replyBytes: number): Promise<Recoveries> {
    const recovered = joiners.map(() => false);
    const since = joiners.map((j) => (j.sinceSeq == null ? undefined : Number(j.sinceSeq)));
    const otherEpoch = (j: Returning) => Boolean(j.epoch) && j.epoch !== top.epoch;
    const candidates = joiners.flatMap((_, i) => (since[i] !== undefined && since[i] <= top.topSeq ? [i] : []));
    if (candidates.length === 0) return { recovered, messages: [] };

    const from = Math.min(...candidates.map((i) => since[i]!));
    const crossesReset = candidates.some((i) => otherEpoch(joiners[i]!) || since[i]! < top.epochStart);
    const resets = crossesReset ? await history.resetsFrom(room, from, top) : [];
    const space = new SeqSpace(resets);
    const eligible = candidates.filter((i) => {
      const s = since[i]!;
      const crossed = resets.filter((r) => Number(r.startSeq) >= s);
      // The client's epoch must be one the chain leads back to.
      if (otherEpoch(joiners[i]!) && !crossed.some((r: lomi.chat.v1.IRoomReset) => r.previousEpoch === joiners[i]!.epoch)) return false;
      // It saw a seq that a reset lost: it holds messages history no longer has.
      if (crossed.some((r) => s > Number(r.lastSeq))) return false;
      return space.count(s, top.topSeq) <= config.RECOVERY_MAX;
    });
    if (eligible.length === 0) return { recovered, messages: [] };

    const lowest = Math.min(...eligible.map((i) => since[i]!));
    const read = (await history.read(room, lowest, top.topSeq)).filter((m) => !space.inHole(Number(m.seq)));
    const tail = completeTail(read, top.topSeq, space);
    // The newest messages are the ones every recovering joiner needs: the budget is spent from the top down.
    const fits = prefixWithin([...tail].reverse(), messageBudget(bus) - replyBytes).reverse();
    let lowestRecovered = top.topSeq;
    for (const i of eligible) {
      if (countAfter(fits, since[i]!) !== space.count(since[i]!, top.topSeq)) continue;
      recovered[i] = true;
      lowestRecovered = Math.min(lowestRecovered, since[i]!);
    }
    // Only what some recovered joiner misses travels.
    return { recovered, messages: fits.filter((m) => Number(m.seq) > lowestRecovered) };
  };
}
