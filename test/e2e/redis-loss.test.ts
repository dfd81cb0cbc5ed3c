// What a room guarantees when its Redis loses state under a stream of sends: restarted without
// persistence, or killed -9 with an append-only file that then misses its last second (as when
// the OS lost what `appendfsync everysec` had not synced). In both durability modes: no seq ever
// names two messages (acks, live pushes, Postgres and a recovery agree), the room goes on under
// a new epoch above every seq handed out, every joined client is told at once with a room_reset
// push although nobody sends, and a client that saw nothing lost recovers from Postgres. With
// ACK_DURABILITY=postgres, nothing acked is lost at all.
import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import type { LomiClient, RoomResetEvent } from '@lomi/client';
import { MessageLog, startRedisServer, waitFor, type RedisServer } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import type { lomi } from '@lomi/protocol';

type Fault = 'restarted without persistence' | 'killed, its AOF missing the last second';
const CASES: ['redis' | 'postgres', Fault][] = [
  ['redis', 'restarted without persistence'],
  ['redis', 'killed, its AOF missing the last second'],
  ['postgres', 'restarted without persistence'],
  ['postgres', 'killed, its AOF missing the last second'],
];
/** Acked sends before the fault; the AOF case also sends for long enough that its last second holds sends. */
const SENT_BEFORE = 300;
const AOF_LOST_MS = 1000;
const SENDERS = 2;

/** The newest part of a Redis 7 multi-part AOF. */
function incrementalAof(redis: RedisServer): string {
  const dir = path.join(redis.dir, 'appendonlydir');
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.incr.aof'));
  if (!file) throw new Error(`no incremental AOF in ${dir}: ${fs.readdirSync(dir).join(', ')}`);
  return path.join(dir, file);
}

/** Records the AOF's size as it grows, to truncate it back to what it was `AOF_LOST_MS` before a kill. */
function watchAof(redis: RedisServer) {
  const file = incrementalAof(redis);
  const sizes: { at: number; size: number }[] = [];
  const timer = setInterval(() => sizes.push({ at: performance.now(), size: fs.statSync(file).size }), 20);
  return {
    elapsedMs: () => performance.now() - (sizes[0]?.at ?? performance.now()),
    /** Stops watching; cuts the file back to its size AOF_LOST_MS ago. Returns the bytes cut. */
    cutLastSecond(): number {
      clearInterval(timer);
      const then = performance.now() - AOF_LOST_MS;
      const kept = [...sizes].reverse().find((s) => s.at <= then)!.size;
      const cut = fs.statSync(file).size - kept;
      fs.truncateSync(file, kept);
      return cut;
    },
  };
}

describe.each(CASES)('ACK_DURABILITY=%s, Redis %s', (durability, fault) => {
  const aof = fault !== 'restarted without persistence';
  let redis: RedisServer;
  let system: TestSystem;
  let pool: Pool;
  beforeAll(async () => {
    redis = await startRedisServer({ appendOnly: aof });
    system = await startSystem({
      gateways: 2,
      messageWorkers: 2,
      env: { REDIS_URL: redis.url, ACK_DURABILITY: durability, RECOVERY_MAX: '20000' },
    });
    pool = new Pool(system.pg);
  });
  afterAll(async () => {
    await system.stop();
    await pool.end();
    await redis.dispose();
  });

  async function stored(roomId: string): Promise<{ seq: number; clientMsgId: string; id: string }[]> {
    const { rows } = await pool.query<{ seq: string; client_msg_id: string; id: string }>(
      "select seq, client_msg_id, id from messages where room_kind = 'live' and room_id = $1 order by seq",
      [roomId],
    );
    return rows.map((r) => ({ seq: Number(r.seq), clientMsgId: r.client_msg_id, id: r.id }));
  }

  test('no seq names two messages, the epoch changes, clients are told at once and recover from Postgres', async () => {
    const host = system.user('loss-host');
    const room = await system.createLiveRoom(host);
    const sender = await system.connect(host);
    const viewers = await Promise.all([0, 1].map((gateway) => system.connect(system.user(`loss-viewer-${gateway}`), { gateway })));
    const logs = viewers.map((v) => new MessageLog(v));
    const joined = await Promise.all(viewers.map((v) => v.join(room)));
    await sender.join(room);
    const epoch = joined[0]!.epoch!;
    // What each viewer had received when the SDK told it of the reset.
    const resetEvents = viewers.map((v, i) => {
      const seen: { event: RoomResetEvent; highestBefore: number }[] = [];
      v.on('reset', (event) => seen.push({ event, highestBefore: Math.max(0, ...logs[i]!.seqs(room)) }));
      return seen;
    });

    const acks: { seq: number; clientMsgId: string; id: string }[] = [];
    let stopping = false;
    const watcher = aof ? watchAof(redis) : undefined;
    const sending = Array.from({ length: SENDERS }, async (_, s) => {
      for (let i = 0; !stopping; i++) {
        const clientMsgId = `s${s}-${i}`;
        try {
          const ack = await sender.send(room, `message ${clientMsgId}`, clientMsgId);
          acks.push({ seq: Number(ack.seq), clientMsgId, id: ack.id! });
        } catch {
          return; // Redis is gone: this sender stops
        }
      }
    });
    await waitFor(() => acks.length >= SENT_BEFORE && (!watcher || watcher.elapsedMs() > AOF_LOST_MS * 1.5), 'sends before the fault', 30_000);

    await redis.kill();
    if (watcher) expect(watcher.cutLastSecond()).toBeGreaterThan(0);
    stopping = true;
    await Promise.all(sending);
    const handedOut = Math.max(...acks.map((a) => a.seq));
    const marks = viewers.map((v) => system.pushes(v).mark());
    await redis.start();

    // Nobody sends: each viewer's gateway checks its rooms once a worker sees Redis back as a new server.
    const pushed = await Promise.all(viewers.map((v, i) => system.pushes(v).waitFor('roomReset', (r) => r.room?.id === room.id, { after: marks[i], timeoutMs: 20_000 })));
    const reset = pushed[0]!;
    for (const other of pushed) expect(other).toEqual(reset);
    expect(reset.previousEpoch).toBe(epoch);
    expect(reset.epoch).not.toBe(epoch);
    const lastSeq = Number(reset.lastSeq);
    const startSeq = Number(reset.startSeq);
    expect(startSeq).toBeGreaterThanOrEqual(handedOut);
    expect(lastSeq).toBeLessThanOrEqual(handedOut);
    const lost = acks.filter((a) => a.seq > lastSeq);
    if (durability === 'postgres') expect(lost).toEqual([]);
    // The SDK says whether what a viewer holds outlived the reset.
    for (const seen of resetEvents) {
      expect(seen).toHaveLength(1);
      expect(seen[0]!.event).toMatchObject({ epoch: reset.epoch, previousEpoch: epoch, lastSeq, startSeq });
      expect(seen[0]!.event.reload).toBe(seen[0]!.highestBefore > lastSeq);
    }

    // A send retried after the loss, of a message that outlived it in Postgres (its dedup entry in
    // Redis is gone, or was in the lost second), is that message again, not a second copy.
    const kept = acks.filter((a) => a.seq <= lastSeq).reduce((a, b) => (b.seq > a.seq ? b : a));
    const retried = await sender.send(room, `message ${kept.clientMsgId}`, kept.clientMsgId);
    expect(retried).toMatchObject({ duplicate: true, id: kept.id });
    expect(Number(retried.seq)).toBe(kept.seq);

    // The room goes on above every seq handed out before.
    const after: typeof acks = [];
    for (let i = 0; i < 20; i++) {
      const ack = await sender.send(room, `after ${i}`, `after-${i}`);
      after.push({ seq: Number(ack.seq), clientMsgId: `after-${i}`, id: ack.id! });
    }
    expect(after.map((a) => a.seq)).toEqual(Array.from({ length: 20 }, (_, i) => startSeq + 1 + i));
    for (const log of logs) await waitFor(() => log.seqs(room).includes(startSeq + 20), 'the messages after the reset');

    // Postgres holds every message up to the reset's last seq and every one after its start.
    const all = [...acks, ...after];
    await waitFor(async () => (await stored(room.id!)).some((m) => m.seq === startSeq + 20), 'the persister to catch up', 20_000);
    const rows = await stored(room.id!);
    expect(rows.map((r) => r.seq)).toEqual([...Array.from({ length: lastSeq }, (_, i) => i + 1), ...after.map((a) => a.seq)]);
    expect(all.filter((a) => a.seq <= lastSeq || a.seq > startSeq).every((a) => rows.some((r) => r.seq === a.seq && r.id === a.id))).toBe(true);

    // A client that saw nothing lost recovers everything from Postgres, across the reset.
    const returning = await system.connect(system.user('loss-returning'), { gateway: 1 });
    const back = await returning.join(room, { sinceSeq: 0, epoch });
    expect(back.recovered).toBe(true);
    expect(back.epoch).toBe(reset.epoch);
    expect(back.messages!.map((m) => [Number(m.seq), m.id])).toEqual(rows.map((r) => [r.seq, r.id]));

    // No seq names two messages anywhere: acks, live pushes, Postgres, the recovery.
    const named = new Map<number, Set<string>>();
    const name = (m: { seq?: unknown; clientMsgId?: string | null }) => {
      const seq = Number(m.seq);
      named.set(seq, (named.get(seq) ?? new Set()).add(m.clientMsgId ?? ''));
    };
    [...all, ...rows, ...(back.messages as lomi.chat.v1.IChatMessage[]), ...logs.flatMap((l) => l.in(room))].forEach(name);
    expect([...named].filter(([, ids]) => ids.size > 1)).toEqual([]);
    // And no viewer got a seq twice or out of order.
    for (const log of logs) expect(log.seqs(room)).toEqual([...new Set(log.seqs(room))].sort((a, b) => a - b));
    await Promise.all([sender, ...viewers, returning].map((c: LomiClient) => c.close()));
  });
});
