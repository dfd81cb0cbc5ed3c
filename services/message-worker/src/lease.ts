// The Redis side of a room's seq lease (keys.seqLease): the scripts that read it, inspect what Redis
// still holds when it is void, install a fresh one after a reset and raise its ceiling. A lease is
// valid only in the Redis server that installed it: every script compares the server's own run_id
// with the lease's incarnation, so a restart (with or without an AOF, however truncated), a
// failover to a replica, a flush or an expired lease all read as void, and nothing is handed out
// until Postgres has reserved a fresh range (sequences.ts).
import type { Room } from '@lomi/protocol';
import type { Result } from 'ioredis';
import type { WorkerContext } from './context';

/**
 * Lua: `leaseOf(seq key, epoch key, lease key)` → {epoch, last seq, ceiling, epoch start, previous
 * epoch's last stored seq}, or nil when the lease is void. The run_id is read on every call
 * (about 6.5 µs here) and never cached by a worker: a cache would outlive the restart it is
 * meant to notice.
 */
export const LEASE_OF = `
local function leaseOf(seqKey, epochKey, leaseKey)
  local lease = redis.call('HMGET', leaseKey, 'until', 'incarnation', 'base', 'last')
  local epoch = redis.call('GET', epochKey)
  local seq = redis.call('GET', seqKey)
  if not (lease[1] and epoch and seq) then return nil end
  if lease[2] ~= string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') then return nil end
  return {epoch, seq, lease[1], lease[3] or '0', lease[4] or '0'}
end
`;

// KEYS: seq, epoch, lease. Returns {epoch, seq, epoch start, previous last} or {} when void.
// Reads do not renew the room's expiry: a room nobody writes to leaves Redis (append.ts renews).
const STATE = `${LEASE_OF}
local lease = leaseOf(KEYS[1], KEYS[2], KEYS[3])
if not lease then return {} end
return {lease[1], lease[2], lease[4], lease[5]}
`;

// KEYS: seq, epoch, lease, history, outbox. Returns {epoch if the lease is valid else '', the
// epoch key's value or '', the seq key's value or '', the highest seq in either stream or 0}.
const INSPECT = `${LEASE_OF}
local lease = leaseOf(KEYS[1], KEYS[2], KEYS[3])
local top = 0
for _, stream in ipairs({KEYS[4], KEYS[5]}) do
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
  if last then top = math.max(top, tonumber(string.match(last[1], '^%d+'))) end
end
return {lease and lease[1] or '', redis.call('GET', KEYS[2]) or '', redis.call('GET', KEYS[1]) or '', top}
`;

// KEYS: seq, epoch, lease, history. ARGV: epoch, seq to continue from, ceiling, epoch start,
// previous last, TTL (s), 1 after a reset. Installs the lease unless this server already holds
// it; returns 1 if it did. A reset also drops the history stream: what survived of it is a
// prefix of the old epoch (an AOF or a replica behind), and reads take the stream for the room's
// newest messages without gaps; the outbox and Postgres serve the old epoch instead.
const INSTALL = `${LEASE_OF}
local lease = leaseOf(KEYS[1], KEYS[2], KEYS[3])
if lease and lease[1] == ARGV[1] then return 0 end
if ARGV[7] == '1' then redis.call('DEL', KEYS[4]) end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[6])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[6])
redis.call('DEL', KEYS[3])
local runId = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
redis.call('HSET', KEYS[3], 'until', ARGV[3], 'incarnation', runId, 'base', ARGV[4], 'last', ARGV[5])
redis.call('EXPIRE', KEYS[3], ARGV[6])
return 1
`;

// KEYS: seq, epoch, lease. ARGV: epoch, new ceiling. Raises the ceiling if the lease still holds
// that epoch in this server; returns 1 if it holds.
const RAISE = `${LEASE_OF}
local lease = leaseOf(KEYS[1], KEYS[2], KEYS[3])
if not lease or lease[1] ~= ARGV[1] then return 0 end
if tonumber(lease[3]) < tonumber(ARGV[2]) then redis.call('HSET', KEYS[3], 'until', ARGV[2]) end
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiLeaseState(seqKey: string, epochKey: string, leaseKey: string): Result<string[], Context>;
    lomiLeaseInspect(seqKey: string, epochKey: string, leaseKey: string, historyKey: string, outboxKey: string): Result<[string, string, string, number], Context>;
    lomiLeaseInstall(seqKey: string, epochKey: string, leaseKey: string, historyKey: string, ...args: (string | number)[]): Result<number, Context>;
    lomiLeaseRaise(seqKey: string, epochKey: string, leaseKey: string, epoch: string, until: number): Result<number, Context>;
  }
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

/** A lease to install: the epoch, the seq Redis continues after, its ceiling and the epoch's start. */
export interface LeasePlan {
  epoch: string;
  top: number;
  until: number;
  base: number;
  previousLast: number;
  /** The epoch before ('' for a room's first). */
  previousEpoch: string;
}

export type Lease = ReturnType<typeof createLease>;

export function createLease(ctx: WorkerContext) {
  const { redis, keys, config } = ctx;
  redis.defineCommand('lomiLeaseState', { numberOfKeys: 3, lua: STATE });
  redis.defineCommand('lomiLeaseInspect', { numberOfKeys: 5, lua: INSPECT });
  redis.defineCommand('lomiLeaseInstall', { numberOfKeys: 4, lua: INSTALL });
  redis.defineCommand('lomiLeaseRaise', { numberOfKeys: 3, lua: RAISE });
  const leaseKeys = (room: Room) => [keys.seq(room), keys.epoch(room), keys.seqLease(room)] as const;

  return {
    /** The room's state, or undefined when its lease is void (a reset must come first). */
    async state(room: Room): Promise<RoomState | undefined> {
      const [epoch, seq, base, last] = await redis.lomiLeaseState(...leaseKeys(room));
      if (epoch === undefined) return undefined;
      return { epoch, topSeq: Number(seq), epochStart: Number(base), previousLast: Number(last) };
    },

    /** What Redis holds of the room: the epoch of a valid lease (else ''), the epoch and seq keys, and its streams' highest seq. */
    async inspect(room: Room): Promise<{ validEpoch: string; epoch: string; seq: number; storedTop: number }> {
      const [validEpoch, epoch, seq, storedTop] = await redis.lomiLeaseInspect(...leaseKeys(room), keys.history(room), keys.outbox(room));
      return { validEpoch, epoch, seq: Number(seq || 0), storedTop: Number(storedTop) };
    },

    /** Installs `plan` unless Redis already holds it; true if it did. */
    async install(room: Room, plan: LeasePlan): Promise<boolean> {
      const args = [plan.epoch, plan.top, plan.until, plan.base, plan.previousLast, config.HISTORY_META_TTL_SECONDS, plan.previousEpoch ? 1 : 0];
      return (await redis.lomiLeaseInstall(...leaseKeys(room), keys.history(room), ...args)) === 1;
    },

    /** Raises the ceiling of the lease of `epoch`; false if Redis no longer holds it. */
    async raise(room: Room, epoch: string, until: number): Promise<boolean> {
      return (await redis.lomiLeaseRaise(...leaseKeys(room), epoch, until)) === 1;
    },
  };
}
