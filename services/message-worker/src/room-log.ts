// The seam of the room log: what the message workers keep of each room in the hot state (Redis,
// or this process's memory for the embedded system). Per room: the seq counter under its lease
// (seqs the room may hand out in its epoch, reserved in Postgres first: sequences.ts), the capped
// history of its newest messages with their deletions, the senders' dedup entries, rate limit
// and slow mode state; and the outbox, which holds every stored message until the persister has
// put it in Postgres, listed in OUTBOX_SHARDS work lists the live workers divide between them.
import type { HotState } from '@lomi/hot-state';
import { chat, type lomi, type Room } from '@lomi/protocol';
import { createMemoryOutbox, createMemoryRoomLog } from './room-log-memory';
import { createRedisOutbox, createRedisRoomLog } from './room-log-redis';

/** How long a client_msg_id is remembered after the sender's last send in the room. */
export const DEDUP_TTL_SECONDS = 86_400;

/** One stored message: its seq, and the encoded ChatMessage without it (undefined if the entry has none). */
export interface LogEntry {
  seq: number;
  bytes: Uint8Array | undefined;
}

export function decodeEntry({ seq, bytes }: LogEntry): lomi.chat.v1.ChatMessage {
  if (!bytes) throw new TypeError(`log entry ${seq} has no message`);
  const message = chat.ChatMessage.decode(bytes);
  message.seq = seq;
  return message;
}

/** Who deleted a message and when (Unix ms). */
export interface Deletion {
  by: string;
  at: number;
}

/** Where a room's history stands: its epoch, newest seq, where the epoch began and what the last reset kept. */
export interface RoomState {
  epoch: string;
  topSeq: number;
  /** The current epoch's seqs follow this one. */
  epochStart: number;
  /** The previous epoch's highest stored seq (the room's newest message while topSeq = epochStart). */
  previousLast: number;
}

/** What the hot state holds of a room whose lease may be void, for a reset to decide from. */
export interface HeldState {
  /** The epoch of a valid lease, else ''. */
  validEpoch: string;
  /** The room's epoch and seq as stored, valid lease or not ('' and 0 when absent). */
  epoch: string;
  seq: number;
  /** The highest seq in the history or the outbox, or 0. */
  storedTop: number;
}

/** A lease to install: the epoch, the seq the log continues after, its ceiling and the epoch's start. */
export interface LeasePlan {
  epoch: string;
  top: number;
  until: number;
  base: number;
  previousLast: number;
  /** The epoch before ('' for a room's first). */
  previousEpoch: string;
}

/** One message to append, with the checks the append makes before it stores anything. */
export interface AppendRequest {
  room: Room;
  senderId: string;
  clientMsgId: string;
  /** The encoded message without its seq. */
  message: Uint8Array;
  /** The room's meta value the send was authorised against. */
  authorisedMeta: string;
  /** GCRA emission interval in µs (0 = no rate limit) and burst. */
  rateIntervalUs: number;
  rateBurst: number;
  /** Slow mode: the least time between the sender's messages in the room, in ms (0 = off). */
  slowModeMs: number;
  /** Whether to check that the sender's dedup entries are seeded for the epoch (false: seeding failed, go ahead without). */
  seedCheck: boolean;
}

/**
 * What an append did. Nothing is written unless 'ok'. 'facts': the room's meta value is not the
 * authorised one; 'dup': the sender stored this client_msg_id already; 'verify': the lease is
 * void (the store lost the room's state, or is another incarnation than the one that installed
 * it), a reset must install a new one; 'reserve': the lease's block is used up; 'seed': the epoch
 * follows earlier seqs and the sender's dedup entries are not seeded for it (dedup-seeds.ts);
 * 'limited' / 'slow': over the rate limit / in slow mode.
 */
export type AppendReply =
  | { status: 'facts'; meta: string | null }
  | { status: 'dup'; seq: number }
  | { status: 'verify' }
  | { status: 'reserve'; epoch: string }
  | { status: 'seed'; epoch: string; epochStart: number }
  | { status: 'limited'; retryAfterMs: number }
  | { status: 'slow'; retryAfterMs: number }
  | { status: 'ok'; seq: number; epoch: string; left: number };

/** How long the room log keeps an idle room, and how much history. */
export interface RoomLogSettings {
  historyMaxLen: number;
  /** The history and its deletions live this long after the room's last append. */
  historyTtlSeconds: number;
  /** The seq, epoch and lease live this long after the room's last append (at least historyTtlSeconds). */
  stateTtlSeconds: number;
}

export interface RoomLog {
  /**
   * Atomically per room: checks the meta value, the sender's dedup entry, the lease, the seeding,
   * slow mode and rate limit (in the store's clock), then assigns the next seq and writes the
   * history, the outbox (listing it for the persisters) and the dedup entry, and renews the
   * room's expiry. The history keeps at least historyMaxLen messages, the newest.
   */
  append(request: AppendRequest): Promise<AppendReply>;
  /** The room's state, or undefined when its lease is void (a reset must come first). Does not renew expiry. */
  state(room: Room): Promise<RoomState | undefined>;
  inspect(room: Room): Promise<HeldState>;
  /**
   * Installs `plan` unless a valid lease of its epoch is there already; true if it did. After a
   * reset (plan.previousEpoch set) the history is dropped: what survived of it is a prefix of the
   * old epoch, and reads take the history for the room's newest messages without gaps.
   */
  install(room: Room, plan: LeasePlan): Promise<boolean>;
  /** Raises the ceiling of the lease of `epoch` (never lowers it); false if the lease is void or of another epoch. */
  raise(room: Room, epoch: string, until: number): Promise<boolean>;
  /**
   * Adds `stored` to the sender's dedup entries (entries already there are kept) and marks them
   * seeded for `epoch`, if a valid lease of that epoch holds; true if it did.
   */
  seedDedup(room: Room, senderId: string, epoch: string, stored: { clientMsgId: string; seq: number }[]): Promise<boolean>;
  /** The history's entries with seq in (afterSeq, untilSeq], in seq order, and the room's deletions. */
  read(room: Room, afterSeq: number, untilSeq: number): Promise<{ entries: LogEntry[]; deletions: Map<number, Deletion> }>;
  /** The history's newest `count` entries, newest first. */
  latest(room: Room, count: number): Promise<LogEntry[]>;
  /** Records deletions (seq → deletion) beside the history; they live as long as it does. */
  recordDeletions(room: Room, deletions: Map<number, Deletion>): Promise<void>;
  /** Whether a replica has every write made before to the servers of `rooms` (within `timeoutMs`); memory has none to wait for. */
  replicated(timeoutMs: number, rooms: Room[]): Promise<boolean>;
  /** Calls `onChange` whenever the store comes back as another incarnation (every lease in it is then void). */
  watchIncarnation(onChange: (previous: string, now: string) => void, onError: (err: unknown) => void): () => void;
}

/** The outbox is read in ranges; what `upTo` finds. */
export type OutboxUpTo = { status: 'ok'; entries: LogEntry[] } | { status: 'void' } | { status: 'older' };

export interface Outbox {
  /** The room's outbox entries with seq in (afterSeq, untilSeq] (no upper bound without untilSeq), in seq order. */
  range(room: Room, afterSeq: number, untilSeq?: number): Promise<LogEntry[]>;
  /**
   * While the room's lease is valid and `seq` is of its epoch (above its start), the outbox's
   * entries up to `seq`: 'ok'. Else 'void' (a reset must decide what exists first) or 'older'
   * (an earlier epoch's seq, which its reset decided).
   */
  upTo(room: Room, seq: number): Promise<OutboxUpTo>;
  /** The room's oldest `count` entries. */
  oldest(room: Room, count: number): Promise<LogEntry[]>;
  remove(room: Room, seqs: number[]): Promise<void>;
  /** How many entries the room's outbox holds; an empty one is deleted and taken off its work list. */
  remaining(room: Room): Promise<number>;
  /** The rooms on work list `shard` (0 ≤ shard < OUTBOX_SHARDS). */
  listed(shard: number): Promise<Room[]>;
  /** Lists every outbox that holds entries but is missing from its work list. */
  sweep(): Promise<void>;
  /** Marks persist worker `id` alive until `aliveUntil` (Unix ms), drops those lapsed by `now`; returns the live ones. */
  heartbeat(id: string, aliveUntil: number, now: number): Promise<string[]>;
  /** Removes persist worker `id` from the live ones. */
  leave(id: string): Promise<void>;
}

export function createRoomLog(hot: HotState, settings: RoomLogSettings): RoomLog {
  return hot.kind === 'redis' ? createRedisRoomLog(hot.redis, hot.keys, settings) : createMemoryRoomLog(hot.memory, settings);
}

export function createOutbox(hot: HotState): Outbox {
  return hot.kind === 'redis' ? createRedisOutbox(hot.redis, hot.keys) : createMemoryOutbox(hot.memory);
}
