// A joiner's recovery: every message it missed since `sinceSeq`, all or nothing — a client given
// part of the gap would believe it had all of it. Across a reset too: the client's epoch must be
// in the room's chain and the client must not have seen a message the reset lost; then the
// missed messages are the rest of its epoch, every later epoch, and the current one up to top.
import type { lomi, Room } from '@lomi/protocol';
import type { WorkerContext } from './context';
import type { History } from './history';
import { SeqSpace } from './holes';
import type { RoomState } from './lease';
import { messageBudget, prefixWithin } from './payload';

export type Recovery = Pick<lomi.chat.v1.IJoinReply, 'recovered' | 'messages'>;
export type Recover = ReturnType<typeof createRecovery>;

export function createRecovery(ctx: WorkerContext, history: History) {
  const { config, nc } = ctx;
  const none: Recovery = { recovered: false };

  /** `epoch` is the one the client's sinceSeq belongs to ('' = not given: taken as the current one). */
  return async function recover(room: Room, sinceSeq: number | null | undefined, epoch: string, top: RoomState): Promise<Recovery> {
    if (sinceSeq == null || sinceSeq > top.topSeq) return none;
    const other = epoch !== '' && epoch !== top.epoch;
    const resets = other || sinceSeq < top.epochStart ? await history.resetsFrom(room, sinceSeq, top) : [];
    // The client's epoch must be one the chain leads back to.
    if (other && !resets.some((r) => r.previousEpoch === epoch)) return none;
    // It saw a seq that a reset lost: it holds messages history no longer has.
    if (resets.some((r) => sinceSeq > Number(r.lastSeq))) return none;
    const space = new SeqSpace(resets);
    const expected = space.count(sinceSeq, top.topSeq);
    if (expected > config.RECOVERY_MAX) return none;
    const messages = (await history.read(room, sinceSeq, top.topSeq)).filter((m) => !space.inHole(m.seq));
    if (messages.length !== expected) return none;
    if (prefixWithin(messages, messageBudget(nc)).length !== messages.length) return none;
    return { recovered: true, messages };
  };
}
