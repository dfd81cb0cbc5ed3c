// A sender's dedup hash (keys.dedup: client_msg_id → seq) lives in Redis, which may lose it with
// the rest of the room's state. After such a loss the room goes on in a new epoch, and the
// client_msg_ids the sender stored before it are in Postgres only: a send retried across the
// loss would be stored a second time, under a new seq. So before a sender's first send in an
// epoch that follows earlier seqs, its earlier client_msg_ids are copied from Postgres into the
// hash, which is then marked with the epoch (field '', which no client_msg_id can be). With
// ACK_DURABILITY=redis sends do not wait for Postgres: while it cannot be asked, a send goes
// ahead unseeded (a retry across the loss would be stored again) and the next one asks again.
import { roomKey, type Room } from '@lomi/protocol';
import type { Result } from 'ioredis';
import type { WorkerContext } from './context';
import { LEASE_OF } from './lease';
import { clientMsgIdsOf } from './message-store';

/** How long a client_msg_id is remembered after the sender's last send in the room. */
export const DEDUP_TTL_SECONDS = 86_400;

/** The dedup hash's field holding the epoch it was completed for. */
export const DEDUP_EPOCH_FIELD = '';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiDedupSeed(seqKey: string, epochKey: string, leaseKey: string, dedupKey: string, ...args: (string | number)[]): Result<number, Context>;
  }
}

// KEYS: seq, epoch, lease, dedup. ARGV: epoch, TTL (s), then client_msg_id, seq pairs. Adds the
// pairs and marks the hash with the epoch if Redis still holds that epoch's lease; returns 1 if
// it did. Entries already there are the same messages (they survived the loss): kept as they are.
const SEED = `${LEASE_OF}
local lease = leaseOf(KEYS[1], KEYS[2], KEYS[3])
if not lease or lease[1] ~= ARGV[1] then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSETNX', KEYS[4], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[4], '${DEDUP_EPOCH_FIELD}', ARGV[1])
redis.call('EXPIRE', KEYS[4], ARGV[2])
return 1
`;

export type DedupSeeds = ReturnType<typeof createDedupSeeds>;

export function createDedupSeeds(ctx: WorkerContext) {
  const { redis, db, keys, log } = ctx;
  const strict = ctx.config.ACK_DURABILITY === 'postgres';
  redis.defineCommand('lomiDedupSeed', { numberOfKeys: 4, lua: SEED });

  return {
    /**
     * Copies the client_msg_ids `senderId` stored in `room` up to `epochStart` (within the dedup
     * TTL) into its dedup hash for `epoch`. A reset in between leaves the hash unmarked: the
     * next append asks again. Returns false if the send is to go ahead unseeded.
     */
    async seed(room: Room, senderId: string, epoch: string, epochStart: number): Promise<boolean> {
      const since = new Date(Date.now() - DEDUP_TTL_SECONDS * 1000);
      let stored: Awaited<ReturnType<typeof clientMsgIdsOf>>;
      try {
        stored = await clientMsgIdsOf(db, room, senderId, epochStart, since);
      } catch (err) {
        if (strict) throw err;
        log.warn({ err, room: roomKey(room), senderId }, 'reading the sender\'s earlier client_msg_ids failed; sending without them');
        return false;
      }
      const pairs = stored.flatMap(({ clientMsgId, seq }) => [clientMsgId, seq]);
      await redis.lomiDedupSeed(keys.seq(room), keys.epoch(room), keys.seqLease(room), keys.dedup(room, senderId), epoch, DEDUP_TTL_SECONDS, ...pairs);
      return true;
    },
  };
}
