// LOMI_NAMESPACE isolates the durable record too: two deployments on one Postgres database, each
// with a live stream of the same id, never see each other's messages, and each stream's seqs
// start at 1 — even when Redis has no seq for it and the worker seeds it from Postgres.
import { Pool } from 'pg';
import Redis from 'ioredis';
import { createKeys } from '@lomi/hot-state';
import { RoomKind, type Room } from '@lomi/client';
import { waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let first: TestSystem;
let second: TestSystem;

beforeAll(async () => {
  [first, second] = await Promise.all([startSystem(), startSystem()]);
});
afterAll(async () => {
  await Promise.all([first.stop(), second.stop()]);
});

const STREAM_ID = `same-stream-${process.pid}`;
const BROADCASTER = `same-host-${process.pid}`;

async function stored(system: TestSystem, room: Room): Promise<{ seq: number; content: string }[]> {
  const pool = new Pool(system.pg);
  try {
    const { rows } = await pool.query<{ seq: string; content: string }>('select seq, content from messages where room_id = $1 order by seq', [room.id]);
    return rows.map((r) => ({ seq: Number(r.seq), content: r.content }));
  } finally {
    await pool.end();
  }
}

test('two namespaces on one database: the same stream id, separate histories, seqs from 1 in each', async () => {
  const room: Room = { kind: RoomKind.ROOM_KIND_LIVE, id: STREAM_ID };
  for (const system of [first, second]) {
    const res = await system.api('POST', '/api/v1/live', { broadcaster_id: BROADCASTER, id: STREAM_ID });
    expect(res.status).toBe(201);
  }

  const a = await first.connect(BROADCASTER);
  await a.join(room);
  for (const text of ['a1', 'a2', 'a3']) await a.send(room, text);
  await waitFor(async () => (await stored(first, room)).length === 3, "the first system's messages in Postgres");

  // The second system's Redis has no seq for the room: its first send seeds it from Postgres.
  const keys = createKeys(second.namespace);
  const redis = new Redis(second.env.REDIS_URL!);
  try {
    expect(await redis.exists(keys.seq(room))).toBe(0);
  } finally {
    redis.disconnect();
  }
  const b = await second.connect(BROADCASTER);
  await b.join(room);
  const acks = [await b.send(room, 'b1'), await b.send(room, 'b2')];
  expect(acks.map((ack) => Number(ack.seq))).toEqual([1, 2]);
  await waitFor(async () => (await stored(second, room)).length === 2, "the second system's messages in Postgres");

  expect(await stored(first, room)).toEqual([
    { seq: 1, content: 'a1' },
    { seq: 2, content: 'a2' },
    { seq: 3, content: 'a3' },
  ]);
  expect(await stored(second, room)).toEqual([
    { seq: 1, content: 'b1' },
    { seq: 2, content: 'b2' },
  ]);
  const history = await second.api('GET', `/api/v1/live/${STREAM_ID}/messages`);
  expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual(['b1', 'b2']);
});

test("a stopped system's schema is dropped with it", async () => {
  const system = await startSystem();
  const pool = new Pool({ connectionString: system.env.DATABASE_URL });
  try {
    const schemaExists = async () => (await pool.query('select 1 from pg_namespace where nspname = $1', [system.namespace])).rowCount === 1;
    expect(await schemaExists()).toBe(true);
    await system.stop();
    expect(await schemaExists()).toBe(false);
  } finally {
    await pool.end();
  }
});
