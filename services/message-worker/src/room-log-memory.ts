// The room log in this process's memory, with the Redis implementation's semantics: each
// operation runs synchronously (atomic per room, as a Lua script is), TTLs as the keys have, a
// lease valid only in the incarnation that installed it, GCRA and slow mode in the state's clock.
import { OUTBOX_SHARDS, outboxShardOf, type MemoryNamespace, type TtlMap } from '@lomi/hot-state';
import { roomKey, type Room } from '@lomi/protocol';
import { roomMetaOf } from '@lomi/rooms';
import { gcra } from './gcra';
import { DEDUP_TTL_SECONDS, type AppendReply, type AppendRequest, type Deletion, type LogEntry, type Outbox, type RoomLog, type RoomLogSettings } from './room-log';

interface Lease {
  until: number;
  incarnation: string;
  base: number;
  last: number;
}

interface Dedup {
  seqs: Map<string, number>;
  /** The epoch the entries were seeded for. */
  seededFor?: string;
}

interface MemoryOutbox {
  room: Room;
  entries: LogEntry[];
}

/** The namespace's room log, by roomKey (per sender: by senderKey). */
export interface RoomLogState {
  seqs: TtlMap<string, number>;
  epochs: TtlMap<string, string>;
  leases: TtlMap<string, Lease>;
  /** Ascending by seq. */
  histories: TtlMap<string, LogEntry[]>;
  deletions: TtlMap<string, Map<number, Deletion>>;
  dedup: TtlMap<string, Dedup>;
  /** GCRA theoretical arrival time, µs. */
  rates: TtlMap<string, number>;
  /** When the sender's last message was stored, µs. */
  slowModes: TtlMap<string, number>;
  /** Never expire; an empty one is deleted by `remaining`. Ascending by seq. */
  outboxes: Map<string, MemoryOutbox>;
  /** The outbox work lists: roomKeys per shard. */
  outboxLists: Set<string>[];
  /** Persist worker id → alive until (Unix ms). */
  persistWorkers: Map<string, number>;
}

export function roomLogOf(memory: MemoryNamespace): RoomLogState {
  return memory.part('room-log', () => ({
    seqs: memory.ttlMap(),
    epochs: memory.ttlMap(),
    leases: memory.ttlMap(),
    histories: memory.ttlMap(),
    deletions: memory.ttlMap(),
    dedup: memory.ttlMap(),
    rates: memory.ttlMap(),
    slowModes: memory.ttlMap(),
    outboxes: new Map(),
    outboxLists: Array.from({ length: OUTBOX_SHARDS }, () => new Set<string>()),
    persistWorkers: new Map(),
  }));
}

const senderKey = (room: Room, senderId: string) => JSON.stringify([roomKey(room), senderId]);
const shardOf = (key: string) => outboxShardOf(key);

/** Entries with seq in (afterSeq, untilSeq] of an ascending list. */
function between(entries: LogEntry[], afterSeq: number, untilSeq = Infinity): LogEntry[] {
  return entries.filter((e) => e.seq > afterSeq && e.seq <= untilSeq);
}

/** The lease as the Lua leaseOf reads it: undefined unless lease, epoch and seq exist and the lease is of this incarnation. */
function leaseOf(state: RoomLogState, memory: MemoryNamespace, key: string) {
  const lease = state.leases.get(key);
  const epoch = state.epochs.get(key);
  const seq = state.seqs.get(key);
  if (!lease || epoch === undefined || seq === undefined || lease.incarnation !== memory.incarnation) return undefined;
  return { epoch, seq, lease };
}

export function createMemoryRoomLog(memory: MemoryNamespace, settings: RoomLogSettings): RoomLog {
  const state = roomLogOf(memory);
  const metas = roomMetaOf(memory);
  const historyTtlMs = settings.historyTtlSeconds * 1000;
  const stateTtlMs = settings.stateTtlSeconds * 1000;

  function append(r: AppendRequest): AppendReply {
    const key = roomKey(r.room);
    const sender = senderKey(r.room, r.senderId);
    const meta = metas.get(key) ?? null;
    if (meta !== r.authorisedMeta) return { status: 'facts', meta };
    const dedup = state.dedup.get(sender);
    const seen = dedup?.seqs.get(r.clientMsgId);
    if (seen !== undefined) return { status: 'dup', seq: seen };
    const held = leaseOf(state, memory, key);
    if (!held) return { status: 'verify' };
    const { epoch, lease } = held;
    if (held.seq >= lease.until) return { status: 'reserve', epoch };
    if (r.seedCheck && lease.base > 0 && dedup?.seededFor !== epoch) return { status: 'seed', epoch, epochStart: lease.base };
    const interval = r.rateIntervalUs;
    const slow = r.slowModeMs * 1000;
    const now = interval > 0 || slow > 0 ? Math.floor(memory.now() * 1000) : 0;
    if (slow > 0) {
      const last = state.slowModes.get(sender);
      if (last !== undefined && now < last + slow) return { status: 'slow', retryAfterMs: Math.ceil((last + slow - now) / 1000) };
    }
    if (interval > 0) {
      const verdict = gcra(state.rates.get(sender), now, interval, r.rateBurst);
      if (!verdict.allowed) return { status: 'limited', retryAfterMs: verdict.retryAfterMs };
      state.rates.set(sender, verdict.tat, verdict.ttlMs);
    }
    if (slow > 0) state.slowModes.set(sender, now, Math.ceil(slow / 1000));

    const seq = held.seq + 1;
    state.seqs.set(key, seq, stateTtlMs);
    state.epochs.expire(key, stateTtlMs);
    state.leases.expire(key, stateTtlMs);
    const entry = { seq, bytes: r.message };
    const history = state.histories.get(key) ?? [];
    history.push(entry);
    if (history.length > settings.historyMaxLen) history.splice(0, history.length - settings.historyMaxLen);
    state.histories.set(key, history, historyTtlMs);
    state.deletions.expire(key, historyTtlMs);
    let outbox = state.outboxes.get(key);
    if (!outbox) state.outboxes.set(key, (outbox = { room: { kind: r.room.kind, id: r.room.id }, entries: [] }));
    outbox.entries.push(entry);
    state.outboxLists[shardOf(key)]!.add(key);
    const entries = dedup ?? { seqs: new Map<string, number>() };
    entries.seqs.set(r.clientMsgId, seq);
    state.dedup.set(sender, entries, DEDUP_TTL_SECONDS * 1000);
    return { status: 'ok', seq, epoch, left: lease.until - seq };
  }

  return {
    append: async (r) => append(r),

    async state(room) {
      const held = leaseOf(state, memory, roomKey(room));
      if (!held) return undefined;
      return { epoch: held.epoch, topSeq: held.seq, epochStart: held.lease.base, previousLast: held.lease.last };
    },

    async inspect(room) {
      const key = roomKey(room);
      const top = (entries: LogEntry[] | undefined) => entries?.at(-1)?.seq ?? 0;
      return {
        validEpoch: leaseOf(state, memory, key)?.epoch ?? '',
        epoch: state.epochs.get(key) ?? '',
        seq: state.seqs.get(key) ?? 0,
        storedTop: Math.max(top(state.histories.get(key)), top(state.outboxes.get(key)?.entries)),
      };
    },

    async install(room, plan) {
      const key = roomKey(room);
      if (leaseOf(state, memory, key)?.epoch === plan.epoch) return false;
      if (plan.previousEpoch) state.histories.delete(key);
      state.seqs.set(key, plan.top, stateTtlMs);
      state.epochs.set(key, plan.epoch, stateTtlMs);
      state.leases.set(key, { until: plan.until, incarnation: memory.incarnation, base: plan.base, last: plan.previousLast }, stateTtlMs);
      return true;
    },

    async raise(room, epoch, until) {
      const held = leaseOf(state, memory, roomKey(room));
      if (held?.epoch !== epoch) return false;
      held.lease.until = Math.max(held.lease.until, until);
      return true;
    },

    async seedDedup(room, senderId, epoch, stored) {
      if (leaseOf(state, memory, roomKey(room))?.epoch !== epoch) return false;
      const sender = senderKey(room, senderId);
      const dedup = state.dedup.get(sender) ?? { seqs: new Map<string, number>() };
      for (const { clientMsgId, seq } of stored) if (!dedup.seqs.has(clientMsgId)) dedup.seqs.set(clientMsgId, seq);
      dedup.seededFor = epoch;
      state.dedup.set(sender, dedup, DEDUP_TTL_SECONDS * 1000);
      return true;
    },

    async read(room, afterSeq, untilSeq) {
      const key = roomKey(room);
      return { entries: between(state.histories.get(key) ?? [], afterSeq, untilSeq), deletions: new Map(state.deletions.get(key)) };
    },

    async latest(room, count) {
      return (state.histories.get(roomKey(room)) ?? []).slice(-count).reverse();
    },

    async recordDeletions(room, deletions) {
      if (deletions.size === 0) return;
      const key = roomKey(room);
      const recorded = state.deletions.get(key) ?? new Map<number, Deletion>();
      for (const [seq, d] of deletions) recorded.set(seq, d);
      state.deletions.set(key, recorded, historyTtlMs);
    },

    replicated: async () => true,

    // A memory state is never replaced under a running process: its incarnation never changes.
    watchIncarnation: () => () => undefined,
  };
}

export function createMemoryOutbox(memory: MemoryNamespace): Outbox {
  const state = roomLogOf(memory);
  const entriesOf = (room: Room) => state.outboxes.get(roomKey(room))?.entries ?? [];

  return {
    range: async (room, afterSeq, untilSeq) => between(entriesOf(room), afterSeq, untilSeq),

    async upTo(room, seq) {
      const held = leaseOf(state, memory, roomKey(room));
      if (!held) return { status: 'void' };
      if (seq <= held.lease.base) return { status: 'older' };
      return { status: 'ok', entries: between(entriesOf(room), -Infinity, seq) };
    },

    oldest: async (room, count) => entriesOf(room).slice(0, count),

    async remove(room, seqs) {
      const outbox = state.outboxes.get(roomKey(room));
      if (!outbox) return;
      const removed = new Set(seqs);
      outbox.entries = outbox.entries.filter((e) => !removed.has(e.seq));
    },

    async remaining(room) {
      const key = roomKey(room);
      const left = entriesOf(room).length;
      if (left === 0) {
        state.outboxes.delete(key);
        state.outboxLists[shardOf(key)]!.delete(key);
      }
      return left;
    },

    async listed(shard) {
      return [...(state.outboxLists[shard] ?? [])].flatMap((key) => {
        const outbox = state.outboxes.get(key);
        return outbox ? [outbox.room] : [];
      });
    },

    async sweep() {
      for (const [key, outbox] of state.outboxes) if (outbox.entries.length > 0) state.outboxLists[shardOf(key)]!.add(key);
    },

    async heartbeat(id, aliveUntil, now) {
      state.persistWorkers.set(id, aliveUntil);
      for (const [worker, until] of state.persistWorkers) if (until <= now) state.persistWorkers.delete(worker);
      return [...state.persistWorkers.keys()];
    },

    async leave(id) {
      state.persistWorkers.delete(id);
    },
  };
}
