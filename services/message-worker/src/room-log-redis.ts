// The room log in Redis. Each room's keys share its hash tag (one Cluster slot), so each step is
// one Lua script over them. A room's seq lease (keys.seqLease) is valid only in the Redis server
// that installed it: every script compares the server's own run_id with the lease's
// incarnation, so a restart (with or without an AOF, however truncated), a failover to a
// replica, a flush or an expired lease all read as void, and nothing is handed out until
// Postgres has reserved a fresh range (sequences.ts).
import { isCluster, outboxShardOf, pipelinedPerTurn, type Keys } from '@lomi/hot-state';
import type { Room } from '@lomi/protocol';
import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis, Result } from 'ioredis';
import { DEDUP_TTL_SECONDS, type AppendReply, type Deletion, type Outbox, type RoomLog, type RoomLogSettings } from './room-log';
import { entryId, logEntryOf, MESSAGE_FIELD, type StreamEntry } from './stream-entries';

/** How often a cluster's masters are asked for their run_ids. */
const INCARNATION_POLL_MS = 1000;

/** The servers holding the log: the one, or a cluster's masters. */
function servers(redis: Redis): Redis[] {
  return isCluster(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
}

/** The servers holding `keys`: the one, or the cluster masters serving their slots now. */
function mastersOf(redis: Redis, keys: string[]): Redis[] {
  if (!isCluster(redis)) return [redis];
  const cluster = redis as unknown as Cluster;
  const addresses = new Set(keys.map((key) => cluster.slots[calculateSlot(key)]?.[0]).filter((a): a is string => a !== undefined));
  return cluster.nodes('master').filter((node) => addresses.has(`${node.options.host}:${node.options.port}`));
}

/** The dedup hash's field holding the epoch it was seeded for (no client_msg_id is empty). */
const DEDUP_EPOCH_FIELD = '';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiAppend(...args: (string | number | Uint8Array)[]): Result<(string | number | null)[], Context>;
    lomiLeaseState(seqKey: string, epochKey: string, leaseKey: string): Result<string[], Context>;
    lomiLeaseInspect(seqKey: string, epochKey: string, leaseKey: string, historyKey: string, outboxKey: string): Result<[string, string, string, number], Context>;
    lomiLeaseInstall(seqKey: string, epochKey: string, leaseKey: string, historyKey: string, ...args: (string | number)[]): Result<number, Context>;
    lomiLeaseRaise(seqKey: string, epochKey: string, leaseKey: string, epoch: string, until: number): Result<number, Context>;
    lomiDedupSeed(seqKey: string, epochKey: string, leaseKey: string, dedupKey: string, ...args: (string | number)[]): Result<number, Context>;
    lomiOutboxUpToBuffer(seqKey: string, epochKey: string, leaseKey: string, outboxKey: string, seq: number): Result<[Buffer, StreamEntry[]?], Context>;
    lomiOutboxLeft(outboxKey: string): Result<number, Context>;
  }
}

/**
 * Lua: `leaseOf(seq key, epoch key, lease key)` → {epoch, last seq, ceiling, epoch start, previous
 * epoch's last stored seq}, or nil when the lease is void. The run_id is read on every call
 * (about 6.5 µs here) and never cached by a worker: a cache would outlive the restart it is
 * meant to notice.
 */
const LEASE_OF = `
local function leaseOf(seqKey, epochKey, leaseKey)
  local lease = redis.call('HMGET', leaseKey, 'until', 'incarnation', 'base', 'last')
  local epoch = redis.call('GET', epochKey)
  local seq = redis.call('GET', seqKey)
  if not (lease[1] and epoch and seq) then return nil end
  if lease[2] ~= string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') then return nil end
  return {epoch, seq, lease[1], lease[3] or '0', lease[4] or '0'}
end
`;

// KEYS: seq, epoch, lease, history, outbox, dedup, rate, meta, slow mode, deletions
// ARGV: client_msg_id, message, history max length, dedup TTL, stream field, rate emission
//       interval in µs (0 = no limit), rate burst, the meta value the send was authorised
//       against, history TTL, seq/epoch/lease TTL (seconds), slow mode interval in ms (0 = off),
//       1 to check that the sender's dedup hash is seeded (0: seeding failed, go ahead without)
// Returns {'facts', current meta or none} | {'dup', seq} | {'verify'} | {'reserve', epoch}
//       | {'seed', epoch, epoch start} | {'limited', retry after ms} | {'slow', retry after ms}
//       | {'ok', seq, epoch, 1 if the outbox was empty, seqs left}.
//
// The rate limit is GCRA on the sender's theoretical arrival time (TAT), in Redis TIME so every
// worker shares one clock. It runs after the dedup check (a retried send that was stored is not
// charged again) and before anything is written (a refused message leaves no trace). Slow mode
// is checked first, on the time of the sender's last stored message in the room (so a lowered
// interval applies at once), and that time is written only once the message is stored.
//
// Every stored message renews the room's expiry: an idle room's history, then its seq, epoch and
// lease, leave Redis on their own (config.ts). The outbox never expires (it may hold messages
// not yet in Postgres); the persister deletes it once drained.
const APPEND = `${LEASE_OF}
local meta = redis.call('GET', KEYS[8])
if meta ~= ARGV[8] then return {'facts', meta} end
local seen = redis.call('HGET', KEYS[6], ARGV[1])
if seen then return {'dup', seen} end
local lease = leaseOf(KEYS[1], KEYS[2], KEYS[3])
if not lease then return {'verify'} end
local ceiling = tonumber(lease[3])
if tonumber(lease[2]) >= ceiling then return {'reserve', lease[1]} end
if ARGV[12] == '1' and tonumber(lease[4]) > 0 and redis.call('HGET', KEYS[6], '${DEDUP_EPOCH_FIELD}') ~= lease[1] then return {'seed', lease[1], lease[4]} end
local interval = tonumber(ARGV[6])
local slow = tonumber(ARGV[11]) * 1000
local now = 0
if interval > 0 or slow > 0 then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end
if slow > 0 then
  local last = tonumber(redis.call('GET', KEYS[9]) or '')
  if last and now < last + slow then return {'slow', math.ceil((last + slow - now) / 1000)} end
end
if interval > 0 then
  local tat = math.max(tonumber(redis.call('GET', KEYS[7]) or '0'), now)
  -- Allowed while the TAT is less than burst intervals ahead of now.
  local allowAt = tat + interval - interval * tonumber(ARGV[7])
  if now < allowAt then return {'limited', math.ceil((allowAt - now) / 1000)} end
  tat = tat + interval
  redis.call('SET', KEYS[7], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
end
if slow > 0 then redis.call('SET', KEYS[9], string.format('%d', now), 'PX', math.ceil(slow / 1000)) end
local seq = redis.call('INCR', KEYS[1])
local id = seq .. '-0'
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], id, ARGV[5], ARGV[2])
redis.call('EXPIRE', KEYS[4], ARGV[9])
-- The history's tombstones live as long as the history (a no-op for a room without any).
redis.call('EXPIRE', KEYS[10], ARGV[9])
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[10]) end
local outboxWasEmpty = redis.call('XLEN', KEYS[5]) == 0
redis.call('XADD', KEYS[5], id, ARGV[5], ARGV[2])
redis.call('HSET', KEYS[6], ARGV[1], seq)
redis.call('EXPIRE', KEYS[6], ARGV[4])
return {'ok', seq, lease[1], outboxWasEmpty and 1 or 0, ceiling - seq}
`;

// KEYS: seq, epoch, lease. Returns {epoch, seq, epoch start, previous last} or {} when void.
// Reads do not renew the room's expiry: a room nobody writes to leaves Redis (the append renews).
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
// it; returns 1 if it did.
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

// KEYS: seq, epoch, lease, outbox. ARGV: a seq. Returns {'ok', the outbox's entries up to that
// seq} while Redis holds the room's lease and the seq is above the epoch's start; else {'void'}
// or {'older'}.
const OUTBOX_UP_TO = `${LEASE_OF}
local lease = leaseOf(KEYS[1], KEYS[2], KEYS[3])
if not lease then return {'void'} end
if tonumber(ARGV[1]) <= tonumber(lease[4]) then return {'older'} end
return {'ok', redis.call('XRANGE', KEYS[4], '-', ARGV[1] .. '-0')}
`;

// The outbox's length, deleting it when empty: Redis keeps an empty stream for ever (unlike an
// empty hash or set), and every room that ever spoke would leave one. In one script, so an
// append landing meanwhile is never deleted with it.
const OUTBOX_LEFT = `
local left = redis.call('XLEN', KEYS[1])
if left == 0 then redis.call('DEL', KEYS[1]) end
return left
`;

export function createRedisRoomLog(redis: Redis, keys: Keys, settings: RoomLogSettings): RoomLog {
  redis.defineCommand('lomiAppend', { numberOfKeys: 10, lua: APPEND });
  redis.defineCommand('lomiLeaseState', { numberOfKeys: 3, lua: STATE });
  redis.defineCommand('lomiLeaseInspect', { numberOfKeys: 5, lua: INSPECT });
  redis.defineCommand('lomiLeaseInstall', { numberOfKeys: 4, lua: INSTALL });
  redis.defineCommand('lomiLeaseRaise', { numberOfKeys: 3, lua: RAISE });
  redis.defineCommand('lomiDedupSeed', { numberOfKeys: 4, lua: SEED });
  const leaseKeys = (room: Room) => [keys.seq(room), keys.epoch(room), keys.seqLease(room)] as const;
  // The sends that arrive together (gateways batch their requests per turn too) share one
  // round trip to Redis.
  const appendScript = pipelinedPerTurn<Parameters<Redis['lomiAppend']>, (string | number | null)[]>(redis, {
    one: (client, args) => client.lomiAppend(...args),
    add: (pipeline, args) => void pipeline.lomiAppend(...args),
  });

  return {
    async append(r): Promise<AppendReply> {
      const { room, senderId } = r;
      const reply = await appendScript([
        ...leaseKeys(room),
        keys.history(room),
        keys.outbox(room),
        keys.dedup(room, senderId),
        keys.rateLimit(room, senderId),
        keys.meta(room),
        keys.slowMode(room, senderId),
        keys.deletions(room),
        r.clientMsgId,
        r.message,
        settings.historyMaxLen,
        DEDUP_TTL_SECONDS,
        MESSAGE_FIELD,
        r.rateIntervalUs,
        r.rateBurst,
        r.authorisedMeta,
        settings.historyTtlSeconds,
        settings.stateTtlSeconds,
        r.slowModeMs,
        r.seedCheck ? 1 : 0,
      ]);
      const [status, a, b, c, d] = reply;
      switch (status) {
        case 'facts':
          return { status, meta: a == null ? null : String(a) };
        case 'dup':
          return { status, seq: Number(a) };
        case 'verify':
          return { status };
        case 'reserve':
          return { status, epoch: String(a) };
        case 'seed':
          return { status, epoch: String(a), epochStart: Number(b) };
        case 'limited':
        case 'slow':
          return { status, retryAfterMs: Number(a) };
        case 'ok':
          // Outside the script: the work list is a global key, in another Cluster slot than the
          // room. A non-empty outbox is listed already: the persister unlists only an empty one.
          if (c === 1) await redis.sadd(keys.outboxRooms(outboxShardOf(keys.outbox(room))), keys.outbox(room));
          return { status, seq: Number(a), epoch: String(b), left: Number(d) };
        default:
          throw new Error(`unexpected append reply ${String(status)}`);
      }
    },

    async state(room) {
      const [epoch, seq, base, last] = await redis.lomiLeaseState(...leaseKeys(room));
      if (epoch === undefined) return undefined;
      return { epoch, topSeq: Number(seq), epochStart: Number(base), previousLast: Number(last) };
    },

    async inspect(room) {
      const [validEpoch, epoch, seq, storedTop] = await redis.lomiLeaseInspect(...leaseKeys(room), keys.history(room), keys.outbox(room));
      return { validEpoch, epoch, seq: Number(seq || 0), storedTop: Number(storedTop) };
    },

    async install(room, plan) {
      const args = [plan.epoch, plan.top, plan.until, plan.base, plan.previousLast, settings.stateTtlSeconds, plan.previousEpoch ? 1 : 0];
      return (await redis.lomiLeaseInstall(...leaseKeys(room), keys.history(room), ...args)) === 1;
    },

    async raise(room, epoch, until) {
      return (await redis.lomiLeaseRaise(...leaseKeys(room), epoch, until)) === 1;
    },

    async seedDedup(room, senderId, epoch, stored) {
      const pairs = stored.flatMap(({ clientMsgId, seq }) => [clientMsgId, seq]);
      return (await redis.lomiDedupSeed(...leaseKeys(room), keys.dedup(room, senderId), epoch, DEDUP_TTL_SECONDS, ...pairs)) === 1;
    },

    async read(room, afterSeq, untilSeq) {
      // The room's deletions come in the same round trip (a room has few, usually none).
      const [[rangeErr, entries], [deletionsErr, deletions]] = (await redis
        .pipeline()
        .xrangeBuffer(keys.history(room), entryId(afterSeq + 1), entryId(untilSeq))
        .hgetall(keys.deletions(room))
        .exec())! as [[Error | null, StreamEntry[]], [Error | null, Record<string, string>]];
      const err = rangeErr ?? deletionsErr;
      if (err) throw err;
      return {
        entries: entries.map(logEntryOf),
        deletions: new Map(Object.entries(deletions).map(([seq, d]) => [Number(seq), JSON.parse(d) as Deletion])),
      };
    },

    async latest(room, count) {
      return ((await redis.xrevrangeBuffer(keys.history(room), '+', '-', 'COUNT', count)) as StreamEntry[]).map(logEntryOf);
    },

    async recordDeletions(room, deletions) {
      const fields = [...deletions].flatMap(([seq, d]) => [String(seq), JSON.stringify(d satisfies Deletion)]);
      if (fields.length === 0) return;
      await redis
        .multi()
        .hset(keys.deletions(room), ...fields)
        .expire(keys.deletions(room), settings.historyTtlSeconds)
        .exec();
    },

    async replicated(timeoutMs, rooms) {
      // WAIT counts the writes made on the connection it is sent on: on a cluster, that of each
      // master serving one of the rooms (so a master that is down holds up only its own rooms).
      const confirmed = await Promise.all(
        mastersOf(
          redis,
          rooms.map((room) => keys.history(room)),
        ).map((server) => server.wait(1, timeoutMs)),
      );
      return confirmed.every((replicas) => replicas >= 1);
    },

    watchIncarnation(onChange, onError) {
      // One server: its run_id, read whenever the client (re)connects. A cluster: its masters'
      // run_ids, read every INCARNATION_POLL_MS (a failover promotes a replica without the
      // client reconnecting); a new one among them is a store that lost what its leases knew.
      let known: Set<string> | undefined;
      async function check(): Promise<void> {
        const ids = new Set<string>();
        for (const server of servers(redis)) {
          const runId = /run_id:(\w+)/.exec(await server.info('server'))?.[1];
          if (runId) ids.add(runId);
        }
        if (ids.size === 0) return;
        const fresh = [...ids].find((id) => known && !known.has(id));
        if (known && fresh) onChange([...known].join(','), fresh);
        known = ids;
      }
      const onReady = () => void check().catch(onError);
      redis.on('ready', onReady);
      const poll = isCluster(redis) ? setInterval(onReady, INCARNATION_POLL_MS) : undefined;
      poll?.unref();
      onReady();
      return () => {
        redis.off('ready', onReady);
        if (poll) clearInterval(poll);
      };
    },
  };
}

export function createRedisOutbox(redis: Redis, keys: Keys): Outbox {
  redis.defineCommand('lomiOutboxUpTo', { numberOfKeys: 4, lua: OUTBOX_UP_TO });
  redis.defineCommand('lomiOutboxLeft', { numberOfKeys: 1, lua: OUTBOX_LEFT });
  const listOf = (outboxKey: string) => keys.outboxRooms(outboxShardOf(outboxKey));

  return {
    async range(room, afterSeq, untilSeq) {
      const until = untilSeq === undefined ? '+' : entryId(untilSeq);
      return ((await redis.xrangeBuffer(keys.outbox(room), entryId(afterSeq + 1), until)) as StreamEntry[]).map(logEntryOf);
    },

    async upTo(room, seq) {
      const [status, entries = []] = await redis.lomiOutboxUpToBuffer(keys.seq(room), keys.epoch(room), keys.seqLease(room), keys.outbox(room), seq);
      const s = status.toString();
      if (s === 'ok') return { status: s, entries: entries.map(logEntryOf) };
      if (s === 'void' || s === 'older') return { status: s };
      throw new Error(`unexpected outbox reply ${s}`);
    },

    async oldest(room, count) {
      return ((await redis.xrangeBuffer(keys.outbox(room), '-', '+', 'COUNT', count)) as StreamEntry[]).map(logEntryOf);
    },

    async remove(room, seqs) {
      if (seqs.length > 0) await redis.xdel(keys.outbox(room), ...seqs.map(entryId));
    },

    async remaining(room) {
      const outboxKey = keys.outbox(room);
      const left = await redis.lomiOutboxLeft(outboxKey);
      if (left === 0) {
        await redis.srem(listOf(outboxKey), outboxKey);
        // An append may have landed between XLEN and SREM, its SADD lost to our SREM: re-add.
        if ((await redis.xlen(outboxKey)) > 0) await redis.sadd(listOf(outboxKey), outboxKey);
      }
      return left;
    },

    async listed(shard) {
      const rooms = (await redis.smembers(keys.outboxRooms(shard))).map(keys.roomOfOutbox);
      return rooms.filter((room): room is Room => room !== undefined);
    },

    // Finds outboxes missing from the work list: a worker that died between the append script
    // and its SADD leaves one behind.
    async sweep() {
      for (const server of servers(redis)) {
        const scan = server.scanStream({ match: keys.outboxPattern, type: 'stream', count: 1000 });
        for await (const found of scan as AsyncIterable<string[]>) {
          for (const outboxKey of found) await redis.sadd(listOf(outboxKey), outboxKey);
        }
      }
    },

    async heartbeat(id, aliveUntil, now) {
      const replies = await redis
        .multi()
        .zadd(keys.persistWorkers, aliveUntil, id)
        .zremrangebyscore(keys.persistWorkers, '-inf', now)
        .zrange(keys.persistWorkers, 0, -1)
        .exec();
      return (replies?.[2]?.[1] as string[] | undefined) ?? [id];
    },

    async leave(id) {
      await redis.zrem(keys.persistWorkers, id);
    },
  };
}
