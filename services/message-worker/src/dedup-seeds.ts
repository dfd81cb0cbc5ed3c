// A sender's dedup entries (client_msg_id → seq) live in the room log, which may lose them with
// the rest of the room's state. After such a loss the room goes on in a new epoch, and the
// client_msg_ids the sender stored before it are in Postgres only: a send retried across the
// loss would be stored a second time, under a new seq. So before a sender's first send in an
// epoch that follows earlier seqs, its earlier client_msg_ids are copied from Postgres into the
// room log, which then marks them seeded for the epoch. With ACK_DURABILITY=redis sends do not
// wait for Postgres: while it cannot be asked, a send goes ahead unseeded (a retry across the
// loss would be stored again) and the next one asks again.
import { roomKey, type Room } from '@lomi/protocol';
import type { WorkerContext } from './context';
import { clientMsgIdsOf } from './message-store';
import { DEDUP_TTL_SECONDS, type RoomLog } from './room-log';

export type DedupSeeds = ReturnType<typeof createDedupSeeds>;

export function createDedupSeeds(ctx: WorkerContext, roomLog: RoomLog) {
  const { db, log } = ctx;
  const strict = ctx.config.ACK_DURABILITY === 'postgres';

  return {
    /**
     * Copies the client_msg_ids `senderId` stored in `room` up to `epochStart` (within the dedup
     * TTL) into its dedup entries for `epoch`. A reset in between leaves them unseeded: the next
     * append asks again. Returns false if the send is to go ahead unseeded.
     */
    async seed(room: Room, senderId: string, epoch: string, epochStart: number): Promise<boolean> {
      const since = new Date(Date.now() - DEDUP_TTL_SECONDS * 1000);
      let stored: Awaited<ReturnType<typeof clientMsgIdsOf>>;
      try {
        stored = await clientMsgIdsOf(db, room, senderId, epochStart, since);
      } catch (err) {
        if (strict) throw err;
        log.warn({ err, room: roomKey(room), senderId }, "reading the sender's earlier client_msg_ids failed; sending without them");
        return false;
      }
      await roomLog.seedDedup(room, senderId, epoch, stored);
      return true;
    },
  };
}
