// The room log contract (@lomi/message-worker RoomLog and Outbox) against Redis and memory: what
// the append, the seq leases, history reads, the persister and the durability check rely on.
import { setTimeout as delay } from 'node:timers/promises';
import { OUTBOX_SHARDS, type HotState } from '@lomi/hot-state';
import {
  createOutbox,
  createRoomLog,
  decodeEntry,
  roomLogOf,
  type AppendReply,
  type AppendRequest,
  type LeasePlan,
  type Outbox,
  type RoomLog,
  type RoomLogSettings,
} from '@lomi/message-worker';
import { chat, RoomKind, roomKey, type Room } from '@lomi/protocol';
import { createRoomMetaStore } from '@lomi/rooms';
import { hotStateImplementations, openHotState } from '@lomi/testkit';

const settings: RoomLogSettings = { historyMaxLen: 1000, historyTtlSeconds: 60, stateTtlSeconds: 60 };
const META = '{"facts":1}';
const firstEpoch: LeasePlan = { epoch: 'e1', top: 0, until: 10_000, base: 0, previousLast: 0, previousEpoch: '' };

/** The lease as another store incarnation (a restarted Redis, a new memory state) installed it. */
async function forgeForeignIncarnation(hot: HotState, room: Room): Promise<void> {
  if (hot.kind === 'redis') await hot.redis.hset(hot.keys.seqLease(room), 'incarnation', 'another-server');
  else roomLogOf(hot.memory).leases.get(roomKey(room))!.incarnation = 'another-incarnation';
}

describe.each(hotStateImplementations)('room log: $name', (impl) => {
  let close: () => Promise<void>;
  let states: HotState[];
  let logs: RoomLog[];
  let outbox: Outbox;
  let log: RoomLog;
  let room: Room;
  let n = 0;

  beforeEach(async () => {
    const opened = await openHotState(impl, 3);
    close = opened.close;
    states = opened.states;
    logs = states.map((s) => createRoomLog(s, settings));
    log = logs[0]!;
    outbox = createOutbox(states[0]!);
    room = { kind: RoomKind.ROOM_KIND_LIVE, id: `r${++n}` };
    await createRoomMetaStore(states[0]!).set(room, META, 60);
  });
  afterEach(() => close());

  function request(senderId: string, clientMsgId: string, more: Partial<AppendRequest> = {}): AppendRequest {
    const target = more.room ?? room;
    return {
      room: target,
      senderId,
      clientMsgId,
      message: chat.ChatMessage.encode({ room: target, id: `m-${clientMsgId}`, senderId, clientMsgId, content: `text ${clientMsgId}` }).finish(),
      authorisedMeta: META,
      rateIntervalUs: 0,
      rateBurst: 0,
      slowModeMs: 0,
      seedCheck: true,
      ...more,
    };
  }
  const ok = (reply: AppendReply) => {
    if (reply.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(reply)}`);
    return reply;
  };
  const seqsOf = (entries: { seq: number }[]) => entries.map((e) => e.seq);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('concurrent appends from several connections keep seqs gap-free and store each client_msg_id once', async () => {
    await log.install(room, firstEpoch);
    // 3 senders × 80 ids, plus 20 retries each of an earlier id, spread over 3 connections.
    const sends: { sender: string; id: string }[] = [];
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < 100; i++) sends.push({ sender: `u${s}`, id: i % 5 === 4 ? `u${s}-${i - 4}` : `u${s}-${i}` });
    }
    const unique = new Set(sends.map((x) => `${x.sender}|${x.id}`));
    const replies = await Promise.all(sends.map((x, i) => logs[i % 3]!.append(request(x.sender, x.id))));

    const stored = replies.filter((r) => r.status === 'ok').map((r) => ok(r).seq);
    expect(stored.sort((a, b) => a - b)).toEqual(range(1, unique.size));
    expect(replies.every((r) => r.status === 'ok' || r.status === 'dup')).toBe(true);
    // Every send of one client_msg_id names the same seq.
    const seqOfId = new Map<string, number>();
    replies.forEach((r, i) => {
      const key = `${sends[i]!.sender}|${sends[i]!.id}`;
      const seq = r.status === 'ok' || r.status === 'dup' ? r.seq : -1;
      expect(seqOfId.get(key) ?? seq).toBe(seq);
      seqOfId.set(key, seq);
    });
    const { entries } = await logs[1]!.read(room, 0, 10_000);
    expect(seqsOf(entries)).toEqual(range(1, unique.size));
    const ids = entries.map((e) => {
      const m = decodeEntry(e);
      return `${m.senderId}|${m.clientMsgId}`;
    });
    expect(new Set(ids).size).toBe(unique.size);
    expect(seqsOf(await outbox.range(room, 0))).toEqual(range(1, unique.size));
  });

  it('refuses over the rate limit with a retry_after, charging neither refusals nor duplicates', async () => {
    await log.install(room, firstEpoch);
    const limit = { rateIntervalUs: 1_000_000, rateBurst: 3 };
    for (let i = 0; i < 3; i++) ok(await log.append(request('u', `ok-${i}`, limit)));
    const refused = await logs[1]!.append(request('u', 'over', limit));
    expect(refused.status).toBe('limited');
    expect(refused.status === 'limited' && refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.status === 'limited' && refused.retryAfterMs).toBeLessThanOrEqual(1000);
    expect(await log.append(request('u', 'ok-1', limit))).toEqual({ status: 'dup', seq: 2 });
    // Another sender has an allowance of its own; nothing refused took a seq.
    expect(ok(await log.append(request('v', 'first', limit))).seq).toBe(4);
  });

  it("refuses a send in slow mode until the interval since the sender's last stored message passed", async () => {
    await log.install(room, firstEpoch);
    ok(await log.append(request('u', 'a', { slowModeMs: 300 })));
    const refused = await logs[2]!.append(request('u', 'b', { slowModeMs: 300 }));
    expect(refused.status).toBe('slow');
    expect(refused.status === 'slow' && refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.status === 'slow' && refused.retryAfterMs).toBeLessThanOrEqual(300);
    ok(await log.append(request('v', 'c', { slowModeMs: 300 })));
    // Off for the same sender: slow mode is read from the request, not remembered.
    ok(await log.append(request('u', 'd')));
    await delay(320);
    expect(ok(await log.append(request('u', 'b', { slowModeMs: 300 }))).seq).toBe(4);
  });

  it('stores nothing when the room meta is not the one the send was authorised against', async () => {
    await log.install(room, firstEpoch);
    expect(await log.append(request('u', 'a', { authorisedMeta: 'stale' }))).toEqual({ status: 'facts', meta: META });
    const other = { kind: RoomKind.ROOM_KIND_PRIVATE, id: room.id };
    await log.install(other, firstEpoch);
    expect(await log.append(request('u', 'a', { room: other }))).toEqual({ status: 'facts', meta: null });
    expect((await log.read(room, 0, 100)).entries).toEqual([]);
    expect(await outbox.range(room, 0)).toEqual([]);
    expect(ok(await log.append(request('u', 'a'))).seq).toBe(1);
  });

  it('trims the history to the newest (at least historyMaxLen); the outbox keeps everything', async () => {
    const small = createRoomLog(states[0]!, { ...settings, historyMaxLen: 10 });
    await small.install(room, firstEpoch);
    for (let i = 1; i <= 300; i++) ok(await small.append(request('u', `m${i}`)));
    const { entries } = await small.read(room, 0, 1000);
    expect(entries.length).toBeGreaterThanOrEqual(10);
    expect(seqsOf(entries)).toEqual(range(301 - entries.length, 300));
    expect(seqsOf(await small.latest(room, 3))).toEqual([300, 299, 298]);
    expect(seqsOf(await outbox.range(room, 0))).toEqual(range(1, 300));
  });

  it('asks for a block when the lease is used up, and raises its ceiling only upwards and only for its epoch', async () => {
    await log.install(room, { ...firstEpoch, until: 2 });
    ok(await log.append(request('u', 'a')));
    expect(ok(await log.append(request('u', 'b'))).left).toBe(0);
    expect(await log.append(request('u', 'c'))).toEqual({ status: 'reserve', epoch: 'e1' });
    expect(await log.raise(room, 'other', 10)).toBe(false);
    expect(await log.raise(room, 'e1', 4)).toBe(true);
    expect(await log.raise(room, 'e1', 3)).toBe(true);
    expect(ok(await log.append(request('u', 'c'))).left).toBe(1);
    expect(await log.install(room, { ...firstEpoch, until: 100 })).toBe(false);
  });

  it('reads a lease from another incarnation as void until a reset installs a new epoch', async () => {
    await log.install(room, firstEpoch);
    ok(await log.append(request('u', 'a')));
    ok(await log.append(request('u', 'b')));
    expect(await log.state(room)).toEqual({ epoch: 'e1', topSeq: 2, epochStart: 0, previousLast: 0 });
    await forgeForeignIncarnation(states[0]!, room);

    expect(await logs[1]!.state(room)).toBeUndefined();
    expect(await logs[1]!.append(request('u', 'c'))).toEqual({ status: 'verify' });
    expect(await outbox.upTo(room, 2)).toEqual({ status: 'void' });
    expect(await log.raise(room, 'e1', 50)).toBe(false);
    expect(await log.seedDedup(room, 'u', 'e1', [])).toBe(false);
    expect(await log.inspect(room)).toEqual({ validEpoch: '', epoch: 'e1', seq: 2, storedTop: 2 });

    const reset: LeasePlan = { epoch: 'e2', top: 100, until: 200, base: 100, previousLast: 2, previousEpoch: 'e1' };
    expect(await logs[2]!.install(room, reset)).toBe(true);
    expect(await log.state(room)).toEqual({ epoch: 'e2', topSeq: 100, epochStart: 100, previousLast: 2 });
    // The history's prefix of the old epoch is dropped; the outbox keeps it for Postgres.
    expect((await log.read(room, 0, 1000)).entries).toEqual([]);
    expect(seqsOf(await outbox.range(room, 0))).toEqual([1, 2]);
    expect(await outbox.upTo(room, 2)).toEqual({ status: 'older' });
  });

  it("after a reset, asks for the sender's dedup entries to be seeded for the epoch before storing", async () => {
    await log.install(room, { epoch: 'e2', top: 100, until: 200, base: 100, previousLast: 7, previousEpoch: 'e1' });
    expect(await log.append(request('u', 'old'))).toEqual({ status: 'seed', epoch: 'e2', epochStart: 100 });
    expect(await log.seedDedup(room, 'u', 'e1', [{ clientMsgId: 'old', seq: 7 }])).toBe(false);
    expect(await log.seedDedup(room, 'u', 'e2', [{ clientMsgId: 'old', seq: 7 }])).toBe(true);
    expect(await logs[1]!.append(request('u', 'old'))).toEqual({ status: 'dup', seq: 7 });
    expect(ok(await logs[1]!.append(request('u', 'new'))).seq).toBe(101);
    // Seeding again keeps what is there; an unseeded sender may go ahead without when told to.
    expect(await log.seedDedup(room, 'u', 'e2', [{ clientMsgId: 'new', seq: 5 }])).toBe(true);
    expect(await log.append(request('u', 'new'))).toEqual({ status: 'dup', seq: 101 });
    expect(ok(await log.append(request('v', 'x', { seedCheck: false }))).seq).toBe(102);
  });

  it("lets an idle room's lease expire", async () => {
    const short = createRoomLog(states[0]!, { historyMaxLen: 100, historyTtlSeconds: 1, stateTtlSeconds: 1 });
    await short.install(room, firstEpoch);
    ok(await short.append(request('u', 'a')));
    await delay(1100);
    expect(await short.state(room)).toBeUndefined();
    expect(await short.append(request('u', 'b'))).toEqual({ status: 'verify' });
    expect((await short.read(room, 0, 10)).entries).toEqual([]);
    expect(seqsOf(await outbox.range(room, 0))).toEqual([1]);
  });

  it('reads history ranges and the newest entries, with the deletions recorded beside them', async () => {
    await log.install(room, firstEpoch);
    for (let i = 1; i <= 10; i++) ok(await log.append(request('u', `m${i}`)));
    await logs[1]!.recordDeletions(room, new Map([[5, { by: 'mod', at: 1234 }]]));
    await logs[1]!.recordDeletions(room, new Map([[6, { by: 'mod', at: 5678 }]]));
    const { entries, deletions } = await logs[2]!.read(room, 3, 7);
    expect(seqsOf(entries)).toEqual([4, 5, 6, 7]);
    expect(decodeEntry(entries[0]!).clientMsgId).toBe('m4');
    expect(decodeEntry(entries[0]!).seq).toBe(4);
    expect(deletions).toEqual(
      new Map([
        [5, { by: 'mod', at: 1234 }],
        [6, { by: 'mod', at: 5678 }],
      ]),
    );
    expect(seqsOf(await log.latest(room, 3))).toEqual([10, 9, 8]);
    expect(seqsOf((await log.read(room, 10, 20)).entries)).toEqual([]);
  });

  it("lists a room's outbox for the persisters until it is drained, and gives its entries up to a seq", async () => {
    await log.install(room, firstEpoch);
    for (let i = 1; i <= 5; i++) ok(await log.append(request('u', `m${i}`)));
    const listed = async () => (await Promise.all(range(0, OUTBOX_SHARDS - 1).map((s) => outbox.listed(s)))).flat().map(roomKey);
    expect(await listed()).toEqual([roomKey(room)]);

    const upTo = await outbox.upTo(room, 3);
    expect(upTo.status === 'ok' && seqsOf(upTo.entries)).toEqual([1, 2, 3]);
    expect(seqsOf(await outbox.range(room, 1, 3))).toEqual([2, 3]);
    const batch = await outbox.oldest(room, 3);
    expect(seqsOf(batch)).toEqual([1, 2, 3]);
    await outbox.remove(room, seqsOf(batch));
    expect(await outbox.remaining(room)).toBe(2);
    await outbox.sweep();
    expect(await listed()).toEqual([roomKey(room)]);
    await outbox.remove(room, [4, 5]);
    expect(await outbox.remaining(room)).toBe(0);
    expect(await listed()).toEqual([]);
    expect(await outbox.range(room, 0)).toEqual([]);

    ok(await log.append(request('u', 'm6')));
    expect(await listed()).toEqual([roomKey(room)]);
    expect(seqsOf(await outbox.oldest(room, 10))).toEqual([6]);
  });

  it('keeps the persist workers that renewed their heartbeat, in any order, until they lapse or leave', async () => {
    const other = createOutbox(states[1]!);
    const now = Date.now();
    expect(await outbox.heartbeat('a', now + 3000, now)).toEqual(['a']);
    expect((await other.heartbeat('c', now + 100, now)).sort()).toEqual(['a', 'c']);
    expect((await other.heartbeat('b', now + 3000, now)).sort()).toEqual(['a', 'b', 'c']);
    expect((await outbox.heartbeat('a', now + 3200, now + 200)).sort()).toEqual(['a', 'b']);
    await other.leave('a');
    expect(await other.heartbeat('b', now + 3300, now + 300)).toEqual(['b']);
  });
});
