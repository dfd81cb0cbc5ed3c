// Which seqs Redis may hand out in a room (hi/lo). Postgres (room_sequences) holds the room's
// epoch and a reserved ceiling; Redis holds a lease up to that ceiling (the room log) and increments
// within it. Whenever Redis lost the room's state — a restart with or without persistence, an AOF
// missing its last second, a failover, an expiry — its lease is void and a reset moves the room
// to a new epoch starting at the ceiling: above every seq ever handed out, so no seq names two
// messages. Postgres always commits a range before Redis may use it.
import { setTimeout as delay } from 'node:timers/promises';
import { randomId } from '@lomi/validation';
import { internal, roomKey, type Room } from '@lomi/protocol';
import { sql } from '@lomi/db';
import type { WorkerContext } from './context';
import { maxStoredSeq } from './message-store';
import { roomColumns } from './room-columns';
import type { LeasePlan, RoomLog, RoomState } from './room-log';

/** A reset that never settles (Redis failing between each step) is given up after this many rounds. */
const STATE_ATTEMPTS = 3;
/**
 * How long a new epoch that Redis does not hold yet is taken to be on its way there (another
 * worker between its two transactions) rather than lost, before a reset replaces it. Without it
 * the first sends of a new room, from two workers at once, would make two epochs and a hole.
 */
const INSTALL_GRACE_MS = 1000;
const INSTALL_POLL_MS = 20;

/** Redis did not keep a seq lease long enough to use it: the request may be retried. */
export class SeqLeaseUnavailableError extends Error {
  override name = 'SeqLeaseUnavailableError';
}

export type Sequences = ReturnType<typeof createSequences>;

export function createSequences(ctx: WorkerContext, roomLog: RoomLog) {
  const { db, config, bus, subjects, log } = ctx;
  const block = config.SEQ_BLOCK_SIZE;
  const resetting = new Map<string, Promise<void>>();
  const extending = new Map<string, Promise<void>>();

  /**
   * T1: under the room's row lock, decide the new epoch and reserve its first block, unless Redis
   * already holds the row's epoch (another worker's reset got there first). Returns what to
   * install, 'nothing' when there is nothing to do, or 'wait' while the row's epoch is younger
   * than INSTALL_GRACE_MS and may still be on its way to Redis.
   */
  async function reserveEpoch(room: Room): Promise<LeasePlan | 'nothing' | 'wait'> {
    const columns = roomColumns(room);
    return db.transaction().execute(async (trx) => {
      await trx
        .insertInto('room_sequences')
        .values({ ...columns, epoch: '', epoch_base: 0, reserved_until: 0 })
        .onConflict((oc) => oc.doNothing())
        .execute();
      const row = await trx
        .selectFrom('room_sequences')
        .select(['epoch', 'reserved_until'])
        .where((eb) => eb.and(columns))
        .forUpdate()
        .executeTakeFirstOrThrow();
      const held = await roomLog.inspect(room);
      if (row.epoch !== '' && held.validEpoch === row.epoch) return 'nothing';
      if (row.epoch !== '') {
        const { age } = await trx
          .selectFrom('room_epochs')
          .select(sql<number>`(extract(epoch from now() - created_at) * 1000)::float8`.as('age'))
          .where((eb) => eb.and(columns))
          .where('epoch', '=', row.epoch)
          .executeTakeFirstOrThrow();
        if (age < INSTALL_GRACE_MS) return 'wait';
      }
      // Whatever survived anywhere: rows the persister wrote, entries left in Redis's streams.
      const storedTop = Math.max(await maxStoredSeq(trx, room), held.storedTop);
      let plan: LeasePlan;
      if (row.epoch === '') {
        // The room's first epoch. A room Redis knew before seq leases existed keeps its epoch and
        // seq, so its clients still recover; seqs before it need no hole.
        const top = Math.max(storedTop, held.seq);
        const adopted = held.epoch !== '';
        plan = { epoch: adopted ? held.epoch : randomId(8), top, base: adopted ? 0 : top, previousLast: top, until: top + block, previousEpoch: '' };
      } else {
        const base = row.reserved_until;
        plan = { epoch: randomId(8), top: base, base, previousLast: Math.min(storedTop, base), until: base + block, previousEpoch: row.epoch };
      }
      await trx
        .updateTable('room_sequences')
        .set({ epoch: plan.epoch, epoch_base: plan.base, reserved_until: plan.until, updated_at: sql`now()` })
        .where((eb) => eb.and(columns))
        .execute();
      await trx
        .insertInto('room_epochs')
        .values({ ...columns, epoch: plan.epoch, base_seq: plan.base, previous_epoch: plan.previousEpoch, previous_last_seq: plan.previousLast })
        .execute();
      return plan;
    });
  }

  /** T2: install the plan in Redis if it is still the room's epoch (a later reset may have replaced it). */
  async function installEpoch(room: Room, plan: LeasePlan): Promise<boolean> {
    return db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('room_sequences')
        .select('epoch')
        .where((eb) => eb.and(roomColumns(room)))
        .forUpdate()
        .executeTakeFirst();
      return row?.epoch === plan.epoch && (await roomLog.install(room, plan));
    });
  }

  async function resetNow(room: Room): Promise<void> {
    let plan = await reserveEpoch(room);
    for (let waited = 0; plan === 'wait' && waited < INSTALL_GRACE_MS; waited += INSTALL_POLL_MS) {
      await delay(INSTALL_POLL_MS);
      plan = await reserveEpoch(room);
    }
    if (typeof plan === 'string' || !(await installEpoch(room, plan)) || !plan.previousEpoch) return;
    log.warn({ room: roomKey(room), epoch: plan.epoch, previousEpoch: plan.previousEpoch, lastSeq: plan.previousLast, startSeq: plan.base }, 'room history reset');
    const roomReset = { room, epoch: plan.epoch, previousEpoch: plan.previousEpoch, lastSeq: plan.previousLast, startSeq: plan.base };
    bus.publish(subjects.room(room), internal.RoomEvent.encode({ roomReset }).finish());
  }

  /** Moves the room to a new epoch if Redis holds no valid lease for it; one at a time per room in this worker. */
  function reset(room: Room): Promise<void> {
    const key = roomKey(room);
    let running = resetting.get(key);
    if (!running) {
      running = resetNow(room).finally(() => resetting.delete(key));
      resetting.set(key, running);
    }
    return running;
  }

  /** Reserves the next block of the epoch in Postgres, then raises the Redis ceiling. */
  async function extendNow(room: Room, epoch: string): Promise<void> {
    const row = await db
      .updateTable('room_sequences')
      .set({ reserved_until: sql`reserved_until + ${block}`, updated_at: sql`now()` })
      .where((eb) => eb.and(roomColumns(room)))
      .where('epoch', '=', epoch)
      .returning('reserved_until')
      .executeTakeFirst();
    // The epoch moved on: a reset happened or is due.
    if (!row) return reset(room);
    await roomLog.raise(room, epoch, row.reserved_until);
  }

  function extend(room: Room, epoch: string): Promise<void> {
    const key = roomKey(room);
    let running = extending.get(key);
    if (!running) {
      running = extendNow(room, epoch).finally(() => extending.delete(key));
      extending.set(key, running);
    }
    return running;
  }

  return {
    reset,

    /** The room's state, resetting it first if Redis lost it. */
    async current(room: Room): Promise<RoomState> {
      for (let attempt = 1; attempt <= STATE_ATTEMPTS; attempt++) {
        const state = await roomLog.state(room);
        if (state) return state;
        await reset(room);
      }
      throw new SeqLeaseUnavailableError(`no seq lease for ${roomKey(room)} after ${STATE_ATTEMPTS} resets`);
    },

    /** After an append: `left` seqs remain under the ceiling; under half a block, reserve the next one in the background. */
    afterAppend(room: Room, epoch: string, left: number): void {
      if (left >= block / 2 || extending.has(roomKey(room))) return;
      extend(room, epoch).catch((err: unknown) => log.warn({ err, room: roomKey(room) }, 'reserving the next block of seqs failed'));
    },

    /** The block ran out: resolves once the next one is reserved (or the room was reset). */
    reserve: extend,
  };
}
