// One outbox entry Postgres can never store must not stop its room's persistence: it is set aside
// in persist_dead_letters (raw, with the error), counted in lomi_persist_dead_letters_total, and
// every message before and after it reaches Postgres. Such entries cannot be sent any more (the
// workers refuse unstorable text), so the test writes them into the outbox the way an older
// version acked them: a seq taken from the room's counter and an XADD of the encoded message.
import { Pool } from 'pg';
import Redis from 'ioredis';
import { chat, MessageKind, type Room } from '@lomi/protocol';
import { createKeys, outboxShardOf } from '@lomi/hot-state';
import { startPostgres, waitFor, type PostgresServer } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let postgres: PostgresServer;
let system: TestSystem;
let pool: Pool;
let redis: Redis;

beforeAll(async () => {
  postgres = await startPostgres();
  system = await startSystem({ env: { DATABASE_URL: postgres.url } });
  pool = new Pool(system.pg);
  pool.on('error', () => undefined);
  redis = new Redis(system.env.REDIS_URL!);
});
afterAll(async () => {
  redis.disconnect();
  await pool.end();
  await system.stop();
  await postgres.dispose();
});

/** Appends `message` bytes to the room's outbox under the room's next seq, as the append script would. */
async function ackedByAnOlderVersion(room: Room, encoded: Uint8Array): Promise<number> {
  const keys = createKeys(system.namespace);
  const seq = await redis.incr(keys.seq(room));
  await redis.xadd(keys.outbox(room), `${seq}-0`, 'm', Buffer.from(encoded));
  await redis.sadd(keys.outboxRooms(outboxShardOf(keys.outbox(room))), keys.outbox(room));
  return seq;
}

const storedSeqs = async (room: Room) =>
  (await pool.query<{ seq: string }>('select seq from messages where room_id = $1 order by seq', [room.id])).rows.map((r) => Number(r.seq));

test('entries Postgres refuses are set aside; every message around them is stored', async () => {
  const host = system.user('dl-host');
  const room = await system.createLiveRoom(host);
  const client = await system.connect(host);
  await client.join(room);

  // Postgres away: the outbox fills, so the persister meets good and bad entries in one batch.
  await postgres.stop();
  const acked = [Number((await client.send(room, 'one')).seq), Number((await client.send(room, 'two')).seq)];
  const nul = chat.ChatMessage.encode({
    room,
    id: 'legacy-nul',
    senderId: host,
    kind: MessageKind.MESSAGE_KIND_TEXT,
    content: 'a\u0000b',
    createdAtMs: Date.now(),
    clientMsgId: 'legacy-1',
  }).finish();
  const nulSeq = await ackedByAnOlderVersion(room, nul);
  acked.push(Number((await client.send(room, 'four')).seq));
  const garbageSeq = await ackedByAnOlderVersion(room, Buffer.from([0xff, 0xff, 0xff]));
  acked.push(Number((await client.send(room, 'six')).seq));
  await postgres.start();

  await waitFor(async () => (await storedSeqs(room).catch(() => [])).length === 4, 'the four good messages in Postgres', 30_000);
  expect(await storedSeqs(room)).toEqual(acked);
  expect(acked).toEqual([1, 2, 4, 6]);
  expect([nulSeq, garbageSeq]).toEqual([3, 5]);

  const { rows } = await pool.query('select room_kind, room_id, seq::int, entry, error, sqlstate from persist_dead_letters where room_id = $1 order by seq', [room.id]);
  expect(rows).toEqual([
    { room_kind: 'live', room_id: room.id, seq: 3, entry: Buffer.from(nul), error: expect.stringMatching(/0x00/), sqlstate: '22021' },
    { room_kind: 'live', room_id: room.id, seq: 5, entry: Buffer.from([0xff, 0xff, 0xff]), error: expect.any(String), sqlstate: null },
  ]);
  // The raw entry is the message as acked, for inspection or a replay.
  expect(chat.ChatMessage.decode(rows[0].entry).content).toBe('a\u0000b');

  const metric = await system.workers[0]!.registry.getSingleMetric('lomi_persist_dead_letters_total')!.get();
  expect(metric.values[0]?.value).toBe(2);

  // The room goes on being persisted, and its outbox is empty: nothing is retried for ever.
  const next = Number((await client.send(room, 'seven')).seq);
  await waitFor(async () => (await storedSeqs(room)).includes(next), 'a later message in Postgres');
  await waitFor(async () => (await redis.xlen(createKeys(system.namespace).outbox(room))) === 0, 'the outbox to drain');
});
