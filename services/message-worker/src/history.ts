// Reading a room's messages: the Redis history stream first, and for the part trimmed from it,
// Postgres (plus the outbox, for messages trimmed before the persister wrote them).
import type { lomi, Room } from '@lomi/protocol';
import { randomId } from '@lomi/common';
import type { Result } from 'ioredis';
import type { WorkerContext } from './context';
import { maxStoredSeq, storedMessagesBetween } from './message-store';
import { decodeEntry, entryId } from './stream-entries';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiRoomState(seqKey: string, epochKey: string, newEpoch: string, metaTtlSeconds: number): Result<[epoch: string, seq: string | null], Context>;
    lomiSeedSeq(seqKey: string, historyKey: string, outboxKey: string, storedMax: number, metaTtlSeconds: number): Result<number, Context>;
  }
}

// Gives the room an epoch on first sight, so a joiner and the first send agree on it. Reads do
// not renew it: a room nobody writes to leaves Redis (the append script renews on every send).
const ROOM_STATE = `
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[2], epoch, 'EX', ARGV[2])
end
return {epoch, redis.call('GET', KEYS[1])}
`;

// Remembers Postgres's top seq for a room Redis knows nothing of, so the joins that pile in when
// a stream starts do not each ask Postgres. Only when no stream holds entries: otherwise the
// append script's own recovery (which also reads the streams) decides.
const SEED_SEQ = `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('XLEN', KEYS[2]) > 0 or redis.call('XLEN', KEYS[3]) > 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
`;

export type History = ReturnType<typeof createHistory>;

export function createHistory(ctx: WorkerContext) {
  const { redis, db, keys, config } = ctx;
  redis.defineCommand('lomiRoomState', { numberOfKeys: 2, lua: ROOM_STATE });
  redis.defineCommand('lomiSeedSeq', { numberOfKeys: 3, lua: SEED_SEQ });

  async function olderThanHistory(room: Room, afterSeq: number, untilSeq: number): Promise<lomi.chat.v1.ChatMessage[]> {
    // The outbox first: the persister deletes an entry only after its row committed, so whatever
    // is gone from the outbox by now is visible to the Postgres query that follows.
    const pending = (await redis.xrangeBuffer(keys.outbox(room), entryId(afterSeq + 1), entryId(untilSeq))).map(decodeEntry);
    const bySeq = new Map((await storedMessagesBetween(db, room, afterSeq, untilSeq)).map((m) => [m.seq, m]));
    for (const m of pending) bySeq.set(m.seq, m);
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  return {
    /** The room's newest seq and its history epoch. */
    async top(room: Room): Promise<{ topSeq: number; epoch: string }> {
      const [epoch, seq] = await redis.lomiRoomState(keys.seq(room), keys.epoch(room), randomId(8), config.HISTORY_META_TTL_SECONDS);
      // No seq key: no message since Redis lost the room (or ever), so Postgres has the top.
      if (seq !== null) return { epoch, topSeq: Number(seq) };
      const storedMax = await maxStoredSeq(db, room);
      await redis.lomiSeedSeq(keys.seq(room), keys.history(room), keys.outbox(room), storedMax, config.HISTORY_META_TTL_SECONDS);
      return { epoch, topSeq: storedMax };
    },

    /**
     * Every message with seq in (afterSeq, untilSeq] that is still stored, in seq order. Seqs have
     * no gaps, so a complete answer has exactly untilSeq - afterSeq messages. Callers bound the span.
     */
    async read(room: Room, afterSeq: number, untilSeq: number): Promise<lomi.chat.v1.ChatMessage[]> {
      if (untilSeq <= afterSeq) return [];
      const recent = (await redis.xrangeBuffer(keys.history(room), entryId(afterSeq + 1), entryId(untilSeq))).map(decodeEntry);
      const firstRecent = recent[0]?.seq ?? untilSeq + 1;
      if (firstRecent === afterSeq + 1) return recent;
      return [...(await olderThanHistory(room, afterSeq, firstRecent - 1)), ...recent];
    },
  };
}
