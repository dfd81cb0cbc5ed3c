// Nothing a client was told is stored may be lost: every acked message reaches Postgres, also
// when Postgres goes away in the middle of sending and comes back later.
import { Pool } from 'pg';
import type { Room } from '@lomi/client';
import { startPostgres, waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

async function storedSeqs(pool: Pool, room: Room): Promise<number[]> {
  const { rows } = await pool.query<{ seq: string }>("select seq from messages where room_kind = 'live' and room_id = $1 order by seq", [room.id]);
  return rows.map((r) => Number(r.seq));
}

describe('with the shared Postgres', () => {
  let system: TestSystem;
  let pool: Pool;
  beforeAll(async () => {
    system = await startSystem({ gateways: 1, messageWorkers: 2 });
    pool = new Pool(system.pg);
  });
  afterAll(async () => {
    await system.stop();
    await pool.end();
  });

  test('every acked message is in Postgres once the persister catches up', async () => {
    const room = await system.createLiveRoom('b-persist');
    const client = await system.connect('writer');
    await client.join(room);
    const acks = await Promise.all(Array.from({ length: 300 }, (_, i) => client.send(room, `p-${i}`)));
    const expected = acks.map((a) => Number(a.seq)).sort((a, b) => a - b);
    await waitFor(async () => (await storedSeqs(pool, room)).length === 300, 'all 300 messages in Postgres');
    expect(await storedSeqs(pool, room)).toEqual(expected);
    const { rows } = await pool.query('select content, sender_id, is_live, is_system from messages where room_id = $1 and seq = 1', [room.id]);
    expect(rows[0]).toMatchObject({ sender_id: 'writer', is_live: true, is_system: false });
  });
});

describe('with a Postgres that is stopped and started during sending', () => {
  let system: TestSystem;
  let postgres: Awaited<ReturnType<typeof startPostgres>>;
  let pool: Pool;
  beforeAll(async () => {
    postgres = await startPostgres();
    system = await startSystem({ gateways: 1, messageWorkers: 2, env: { DATABASE_URL: postgres.url } });
    pool = new Pool(system.pg);
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await system.stop();
    await pool.end();
    await postgres.dispose();
  });

  test('messages acked while Postgres was down are all stored after it returns', async () => {
    const room = await system.createLiveRoom('b-outage');
    const client = await system.connect('steadfast');
    await client.join(room);
    const acked: number[] = [];
    for (let i = 0; i < 50; i++) acked.push(Number((await client.send(room, `before-${i}`)).seq));

    await postgres.stop();
    for (let i = 0; i < 150; i++) acked.push(Number((await client.send(room, `during-${i}`)).seq));
    await postgres.start();
    for (let i = 0; i < 50; i++) acked.push(Number((await client.send(room, `after-${i}`)).seq));

    expect(acked).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    await waitFor(async () => (await storedSeqs(pool, room).catch(() => [])).length === 250, 'all 250 messages in Postgres', 30_000);
    expect(await storedSeqs(pool, room)).toEqual(acked);
  });
});
