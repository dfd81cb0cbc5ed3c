// Seqs come from blocks reserved in Postgres before Redis hands them out. A room that uses up
// block after block — sends racing the reservation of the next one, on two workers — still gets
// consecutive seqs in one epoch: a block running out makes sends wait, never skip or reset.
import { Pool } from 'pg';
import { retryingUnavailable } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

const BLOCK = 4;
let system: TestSystem;
let pool: Pool;

beforeAll(async () => {
  system = await startSystem({ gateways: 1, messageWorkers: 2, env: { SEQ_BLOCK_SIZE: String(BLOCK) } });
  pool = new Pool(system.pg);
});
afterAll(async () => {
  await system.stop();
  await pool.end();
});

test('300 concurrent sends across 75 blocks get seqs 1..300 in one epoch', async () => {
  const host = system.user('blocks-host');
  const room = await system.createLiveRoom(host);
  const client = await system.connect(host);
  const before = await client.join(room);
  // 75 reservations in a row can outlast a send's 5 s on a loaded machine: the send is retried
  // as the protocol says, with its client_msg_id, and stored once.
  const acks = await Promise.all(Array.from({ length: 300 }, (_, i) => retryingUnavailable(() => client.send(room, `m-${i}`, `blocks-${i}`))));
  expect(acks.map((a) => Number(a.seq)).sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));

  const other = await system.connect(system.user('blocks-viewer'));
  const after = await other.join(room);
  expect(after.epoch).toBe(before.epoch);
  expect(Number(after.topSeq)).toBe(300);
  // Postgres reserved at least what Redis handed out, and only a block or two more (an append
  // that saw few seqs left may ask for one more block just after another was reserved).
  const { rows } = await pool.query<{ reserved_until: string }>("select reserved_until from room_sequences where room_kind = 'live' and room_id = $1", [room.id]);
  expect(Number(rows[0]!.reserved_until)).toBeGreaterThanOrEqual(300);
  expect(Number(rows[0]!.reserved_until)).toBeLessThanOrEqual(300 + 3 * BLOCK);
});
