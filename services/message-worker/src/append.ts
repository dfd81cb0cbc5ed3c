// Storing a message in its room: one Lua script checks that the room's facts are still those
// the send was authorised against, that the room's seq lease is valid in this Redis server and
// has seqs left, and the sender's slow mode and rate limit, then assigns the seq and writes the history stream,
// the outbox and the sender's dedup entry atomically. Every key is the room's (one Cluster slot).
// A sender's first send in an epoch that follows a reset first has its earlier client_msg_ids
// copied from Postgres (dedup-seeds.ts), so that a send retried across a Redis loss is stored once.
import type { RoomFacts, Rooms, SeenFacts } from '@lomi/rooms';
import { chat, roomKindName, type lomi, type Room } from '@lomi/protocol';
import type { Redis, Result } from 'ioredis';
import { outboxShardOf, pipelinedPerTurn, UnavailableError } from '@lomi/common';
import type { WorkerContext } from './context';
import { DEDUP_EPOCH_FIELD, DEDUP_TTL_SECONDS, type DedupSeeds } from './dedup-seeds';
import { RateLimitedError, SlowModeError } from './errors';
import { LEASE_OF } from './lease';
import { messageKindName } from './message-store';
import { SeqLeaseUnavailableError, type Sequences } from './sequences';
import { MESSAGE_FIELD } from './stream-entries';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiAppend(
      seqKey: string,
      epochKey: string,
      leaseKey: string,
      historyKey: string,
      outboxKey: string,
      dedupKey: string,
      rateKey: string,
      metaKey: string,
      slowModeKey: string,
      deletionsKey: string,
      clientMsgId: string,
      message: Uint8Array,
      historyMaxLen: number,
      dedupTtlSeconds: number,
      field: string,
      rateIntervalUs: number,
      rateBurst: number,
      seenMeta: string,
      historyTtlSeconds: number,
      metaTtlSeconds: number,
      slowModeMs: number,
      seedCheck: number,
    ): Result<(string | number)[], Context>;
  }
}

// KEYS: seq, epoch, seq lease, history, outbox, dedup, rate, meta, slow mode, deletions
// ARGV: client_msg_id, message, history max length, dedup TTL, stream field, rate emission
//       interval in µs (0 = no limit), rate burst, the meta value the send was authorised
//       against, history TTL, seq/epoch/lease TTL (seconds), slow mode interval in ms (0 = off),
//       1 to check that the sender's dedup hash is seeded (0: seeding failed, go ahead without)
// Returns {'facts', current meta or none} | {'dup', seq} | {'verify'} | {'reserve', epoch}
//       | {'seed', epoch, epoch start} | {'limited', retry after ms} | {'slow', retry after ms}
//       | {'ok', seq, epoch, 1 if the outbox was empty, seqs left}.
//
// 'verify': the lease is void (Redis lost the room's state, or is another server than the one
// that installed it); nothing is written until a reset installs a new one. 'reserve': the
// lease's block is used up; the next one must be reserved in Postgres first. 'seed': the epoch
// follows earlier seqs and the sender's dedup hash is not marked with it (dedup-seeds.ts).
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

/** Resets one append waits for before giving up (Redis losing the room again and again). */
const LEASE_RESETS = 4;

export type AppendResult = { duplicate: false; seq: number; epoch: string } | { duplicate: true; seq: number };
/** Or: the room's meta value is no longer the one the send was authorised against; nothing stored. */
type Attempt = AppendResult | { factsChanged: true; meta: string | null };

/** A sender's allowance: `perSecond` sustained, `burst` at once. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** What limits one sender's send, checked in the append script. */
export interface SendLimits {
  rate?: RateLimit;
  /** Slow mode: the least time since the sender's last message in the room; 0 or unset = off. */
  slowModeMs?: number;
}

export type Append = ReturnType<typeof createAppend>;

export function createAppend(ctx: WorkerContext, rooms: Rooms, sequences: Sequences, seeds: DedupSeeds) {
  const { redis, keys, metrics, config } = ctx;
  redis.defineCommand('lomiAppend', { numberOfKeys: 10, lua: APPEND });
  // The sends that arrive together (gateways batch their requests per turn too) share one
  // round trip to Redis.
  const appendScript = pipelinedPerTurn<Parameters<Redis['lomiAppend']>, (string | number)[]>(redis, {
    one: (client, args) => client.lomiAppend(...args),
    add: (pipeline, args) => void pipeline.lomiAppend(...args),
  });

  async function attempt(message: lomi.chat.v1.ChatMessage, authorised: SeenFacts, { rate: limit, slowModeMs = 0 }: SendLimits): Promise<Attempt> {
    const room = message.room ?? {};
    const encoded = chat.ChatMessage.encode({ ...message, seq: 0 }).finish();
    let seedCheck = 1;
    const run = () =>
      appendScript([
        keys.seq(room),
        keys.epoch(room),
        keys.seqLease(room),
        keys.history(room),
        keys.outbox(room),
        keys.dedup(room, message.senderId),
        keys.rateLimit(room, message.senderId),
        keys.meta(room),
        keys.slowMode(room, message.senderId),
        keys.deletions(room),
        message.clientMsgId,
        encoded,
        config.HISTORY_MAX_LEN,
        DEDUP_TTL_SECONDS,
        MESSAGE_FIELD,
        limit ? Math.round(1_000_000 / limit.perSecond) : 0,
        limit?.burst ?? 0,
        authorised.meta,
        config.HISTORY_TTL_SECONDS,
        config.HISTORY_META_TTL_SECONDS,
        slowModeMs,
        seedCheck,
      ]);

    const timer = metrics.appendSeconds.startTimer();
    let reply = await run();
    // A used-up block is not counted: each wait ends with one more block reserved in Postgres,
    // which only other sends can take, so a burst that outruns the reservations drains.
    for (let resets = 0; reply[0] === 'verify' || reply[0] === 'reserve' || reply[0] === 'seed'; ) {
      if (reply[0] === 'reserve') await sequences.reserve(room, String(reply[1]));
      else if (reply[0] === 'seed') seedCheck = (await seeds.seed(room, message.senderId, String(reply[1]), Number(reply[2]))) ? 1 : 0;
      else if (++resets === LEASE_RESETS) throw new SeqLeaseUnavailableError(`no usable seq lease for ${room.id} after ${resets} resets`);
      else await sequences.reset(room);
      reply = await run();
    }
    timer();

    const [status, seq, epoch, outboxWasEmpty, left] = reply;
    if (status === 'facts') return { factsChanged: true, meta: seq == null ? null : String(seq) };
    if (status === 'limited') {
      metrics.rateLimited.inc();
      throw new RateLimitedError(Number(seq));
    }
    if (status === 'slow') {
      metrics.slowModeRefused.inc();
      throw new SlowModeError(Number(seq), slowModeMs);
    }
    if (status === 'dup') {
      metrics.duplicates.inc();
      return { duplicate: true, seq: Number(seq) };
    }
    // Outside the script: the work list is a global key, in another Cluster slot than the room.
    // A non-empty outbox is listed already: the persister unlists only an empty one (persister.ts).
    if (outboxWasEmpty === 1) await redis.sadd(keys.outboxRooms(outboxShardOf(keys.outbox(room))), keys.outbox(room));
    metrics.messagesStored.inc({ room_kind: roomKindName(room.kind), kind: messageKindName(message.kind) });
    sequences.afterAppend(room, String(epoch), Number(left));
    return { duplicate: false, seq: Number(seq), epoch: String(epoch) };
  }

  /**
   * Stores `message` (its seq is ignored) in its room if its sender may send there, unless the
   * sender already stored `clientMsgId` here. `admit` runs once the sender is authorised, before
   * anything is stored: it may refuse the message (throw), rewrite it, and gives the sender's
   * limits in the room; over them, throws RateLimitedError or SlowModeError and stores nothing.
   * Returns what happened and the facts the send was authorised against.
   */
  return async function append(
    message: lomi.chat.v1.ChatMessage,
    admit: (facts: RoomFacts) => SendLimits | Promise<SendLimits> = () => ({}),
  ): Promise<AppendResult & { facts: RoomFacts }> {
    const room = message.room as Room;
    let authorised = await rooms.authorizeSeen(room, message.senderId, 'send');
    for (let tries = 1; ; tries++) {
      const stored = await attempt(message, authorised, await admit(authorised.facts));
      if (!('factsChanged' in stored)) return { ...stored, facts: authorised.facts };
      // Changed again while we looked: something keeps rewriting the room; the client retries.
      if (tries === 2) throw new UnavailableError('room facts kept changing during a send');
      rooms.seen(room, stored.meta);
      authorised = await rooms.authorizeSeen(room, message.senderId, 'send');
    }
  };
}
