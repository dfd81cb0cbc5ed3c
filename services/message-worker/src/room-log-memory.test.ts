// The embedded system's room log must keep the Redis scripts' semantics; these are the ones a
// send and a read rely on, in a clock the test moves.
import { OUTBOX_SHARDS } from '@lomi/hot-state';
import { MemoryNamespace } from '@lomi/hot-state';
import { roomKey, RoomKind, type Room } from '@lomi/protocol';
import { roomMetaOf } from '@lomi/rooms';
import type { AppendRequest, LeasePlan } from './room-log';
import { createMemoryOutbox, createMemoryRoomLog } from './room-log-memory';

const room: Room = { kind: RoomKind.ROOM_KIND_LIVE, id: 'r1' };
const firstEpoch: LeasePlan = { epoch: 'e1', top: 0, until: 100, base: 0, previousLast: 0, previousEpoch: '' };

let clock: number;
let memory: MemoryNamespace;

function setUp(historyMaxLen = 3) {
  clock = 1_700_000_000_000;
  memory = new MemoryNamespace('test', 'incarnation-1', () => clock);
  roomMetaOf(memory).set(roomKey(room), 'meta-1');
  const settings = { historyMaxLen, historyTtlSeconds: 60, stateTtlSeconds: 120 };
  return { log: createMemoryRoomLog(memory, settings), outbox: createMemoryOutbox(memory) };
}

afterEach(() => memory.clear());

let sent = 0;
function send(overrides: Partial<AppendRequest> = {}): AppendRequest {
  sent += 1;
  return {
    room,
    senderId: 'alice',
    clientMsgId: `c${sent}`,
    message: Uint8Array.of(sent),
    authorisedMeta: 'meta-1',
    rateIntervalUs: 0,
    rateBurst: 0,
    slowModeMs: 0,
    seedCheck: true,
    ...overrides,
  };
}

describe('memory room log: append', () => {
  it('refuses until a lease is installed, then hands out consecutive seqs under its ceiling', async () => {
    const { log } = setUp();
    expect(await log.append(send())).toEqual({ status: 'verify' });
    expect(await log.install(room, { ...firstEpoch, until: 2 })).toBe(true);
    expect(await log.install(room, { ...firstEpoch, until: 2 })).toBe(false);
    expect(await log.append(send())).toEqual({ status: 'ok', seq: 1, epoch: 'e1', left: 1 });
    expect(await log.append(send())).toEqual({ status: 'ok', seq: 2, epoch: 'e1', left: 0 });
    expect(await log.append(send())).toEqual({ status: 'reserve', epoch: 'e1' });
    expect(await log.raise(room, 'e1', 1)).toBe(true);
    expect(await log.append(send())).toEqual({ status: 'reserve', epoch: 'e1' });
    expect(await log.raise(room, 'other', 10)).toBe(false);
    expect(await log.raise(room, 'e1', 10)).toBe(true);
    expect(await log.append(send())).toMatchObject({ status: 'ok', seq: 3, left: 7 });
  });

  it('refuses a send authorised against facts that changed, naming the current ones', async () => {
    const { log } = setUp();
    await log.install(room, firstEpoch);
    expect(await log.append(send({ authorisedMeta: 'meta-0' }))).toEqual({ status: 'facts', meta: 'meta-1' });
    roomMetaOf(memory).delete(roomKey(room));
    expect(await log.append(send())).toEqual({ status: 'facts', meta: null });
  });

  it('stores a client_msg_id once per sender and answers a repeat with the first seq', async () => {
    const { log } = setUp();
    await log.install(room, firstEpoch);
    await log.append(send({ clientMsgId: 'same' }));
    await log.append(send());
    expect(await log.append(send({ clientMsgId: 'same' }))).toEqual({ status: 'dup', seq: 1 });
    expect(await log.append(send({ clientMsgId: 'same', senderId: 'bob' }))).toMatchObject({ status: 'ok', seq: 3 });
  });

  it('asks for the dedup seeds of an epoch that follows a reset, once per sender', async () => {
    const { log } = setUp();
    await log.install(room, { epoch: 'e2', top: 500, until: 600, base: 500, previousLast: 42, previousEpoch: 'e1' });
    expect(await log.append(send())).toEqual({ status: 'seed', epoch: 'e2', epochStart: 500 });
    expect(await log.seedDedup(room, 'alice', 'e1', [])).toBe(false);
    expect(await log.seedDedup(room, 'alice', 'e2', [{ clientMsgId: 'before-reset', seq: 40 }])).toBe(true);
    expect(await log.append(send({ clientMsgId: 'before-reset' }))).toEqual({ status: 'dup', seq: 40 });
    expect(await log.append(send())).toMatchObject({ status: 'ok', seq: 501 });
    expect(await log.append(send({ senderId: 'bob' }))).toMatchObject({ status: 'seed' });
    // Seeding failed: the worker goes ahead without.
    expect(await log.append(send({ senderId: 'bob', seedCheck: false }))).toMatchObject({ status: 'ok', seq: 502 });
  });

  it('rate-limits each sender on its own, in the state clock, storing nothing when refused', async () => {
    const { log, outbox } = setUp();
    await log.install(room, firstEpoch);
    const limited = { rateIntervalUs: 500_000, rateBurst: 2 };
    expect(await log.append(send(limited))).toMatchObject({ status: 'ok', seq: 1 });
    expect(await log.append(send(limited))).toMatchObject({ status: 'ok', seq: 2 });
    expect(await log.append(send(limited))).toEqual({ status: 'limited', retryAfterMs: 500 });
    expect(await log.append(send({ ...limited, senderId: 'bob' }))).toMatchObject({ status: 'ok', seq: 3 });
    clock += 500;
    expect(await log.append(send(limited))).toMatchObject({ status: 'ok', seq: 4 });
    expect((await outbox.range(room, 0)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('holds a sender in slow mode from their last stored message', async () => {
    const { log } = setUp();
    await log.install(room, firstEpoch);
    expect(await log.append(send({ slowModeMs: 5000 }))).toMatchObject({ status: 'ok' });
    clock += 1200;
    expect(await log.append(send({ slowModeMs: 5000 }))).toEqual({ status: 'slow', retryAfterMs: 3800 });
    expect(await log.append(send({ slowModeMs: 5000, senderId: 'bob' }))).toMatchObject({ status: 'ok' });
    clock += 3800;
    expect(await log.append(send({ slowModeMs: 5000 }))).toMatchObject({ status: 'ok' });
  });
});

describe('memory room log: history and outbox', () => {
  it('keeps the newest historyMaxLen messages in the history and every one in the outbox', async () => {
    const { log, outbox } = setUp(3);
    await log.install(room, firstEpoch);
    for (let i = 0; i < 5; i++) await log.append(send());
    expect((await log.read(room, 0, 10)).entries.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect((await log.read(room, 3, 4)).entries.map((e) => e.seq)).toEqual([4]);
    expect((await log.latest(room, 2)).map((e) => e.seq)).toEqual([5, 4]);
    expect((await outbox.range(room, 0)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await outbox.range(room, 1, 3)).map((e) => e.seq)).toEqual([2, 3]);
    expect((await outbox.oldest(room, 2)).map((e) => e.seq)).toEqual([1, 2]);
    expect(await log.inspect(room)).toEqual({ validEpoch: 'e1', epoch: 'e1', seq: 5, storedTop: 5 });
  });

  it('drops the history on a reset, and keeps deletions beside it', async () => {
    const { log } = setUp();
    await log.install(room, firstEpoch);
    await log.append(send());
    await log.recordDeletions(room, new Map([[1, { by: 'mod', at: 5 }]]));
    expect((await log.read(room, 0, 1)).deletions.get(1)).toEqual({ by: 'mod', at: 5 });
    await log.install(room, { epoch: 'e2', top: 100, until: 200, base: 100, previousLast: 1, previousEpoch: 'e1' });
    expect((await log.read(room, 0, 200)).entries).toEqual([]);
    expect(await log.state(room)).toEqual({ epoch: 'e2', topSeq: 100, epochStart: 100, previousLast: 1 });
  });

  it('forgets an idle room: the history after its TTL, the lease after the longer state TTL', async () => {
    const { log } = setUp();
    await log.install(room, firstEpoch);
    await log.append(send());
    clock += 61_000;
    expect((await log.read(room, 0, 10)).entries).toEqual([]);
    expect(await log.state(room)).toMatchObject({ topSeq: 1 });
    clock += 60_000;
    expect(await log.state(room)).toBeUndefined();
    expect(await log.append(send())).toEqual({ status: 'verify' });
  });

  it('reads the outbox only under a valid lease and only for seqs of its epoch', async () => {
    const { log, outbox } = setUp();
    expect(await outbox.upTo(room, 1)).toEqual({ status: 'void' });
    await log.install(room, { ...firstEpoch, epoch: 'e3', top: 10, base: 10, previousEpoch: 'e2' });
    await log.append(send({ seedCheck: false }));
    await log.append(send({ seedCheck: false }));
    expect(await outbox.upTo(room, 10)).toEqual({ status: 'older' });
    const upTo = await outbox.upTo(room, 11);
    expect(upTo.status === 'ok' && upTo.entries.map((e) => e.seq)).toEqual([11]);
  });

  it('lists a room with outbox entries for its shard until the outbox is emptied', async () => {
    const { log, outbox } = setUp();
    await log.install(room, firstEpoch);
    await log.append(send());
    const listedIn = async () => {
      const shards = await Promise.all(Array.from({ length: OUTBOX_SHARDS }, (_, s) => outbox.listed(s)));
      return shards.flat();
    };
    expect(await listedIn()).toEqual([room]);
    expect(await outbox.remaining(room)).toBe(1);
    await outbox.remove(room, [1]);
    expect(await outbox.remaining(room)).toBe(0);
    expect(await listedIn()).toEqual([]);
  });

  it('counts persist workers alive until their heartbeat lapses or they leave', async () => {
    const { outbox } = setUp();
    expect(await outbox.heartbeat('a', 3000, 0)).toEqual(['a']);
    expect(await outbox.heartbeat('b', 4000, 1000)).toEqual(['a', 'b']);
    expect(await outbox.heartbeat('b', 7000, 3000)).toEqual(['b']);
    await outbox.leave('b');
    expect(await outbox.heartbeat('c', 9000, 5000)).toEqual(['c']);
  });
});
