// The outboxes are drained by owners: the live message workers divide the persisters' work lists
// (outbox shards) between them, so each scans only its share. Three message workers as deployed
// (processes), 2,000 conversations with a message each, one worker killed with SIGKILL half way:
// the survivors take its shards over, and every acked message reaches Postgres exactly once.
import { OUTBOX_SHARDS } from '@lomi/hot-state';
import { retryingUnavailable, spawnService, waitFor, type ServiceProcess } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import { Pool } from 'pg';
import type { Room } from '@lomi/client';

const CONVERSATIONS = 2000;

let system: TestSystem;
let workers: ServiceProcess[] = [];
let pool: Pool;

beforeAll(async () => {
  system = await startSystem({ messageWorkers: 0 });
  workers = await Promise.all([1, 2, 3].map((i) => spawnService('message-worker', `message-worker-${i}`, { ...system.env, LOG_LEVEL: 'info' })));
  pool = new Pool(system.pg);
}, 120_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await pool.end();
  await system.stop();
});

/** How many outbox shards each worker says it drains (lomi_persist_outbox_shards). */
async function shardsOf(worker: ServiceProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text();
  return Number(/^lomi_persist_outbox_shards(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? -1);
}

const shares = (live: ServiceProcess[]) => Promise.all(live.map(shardsOf));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

test('three workers share the outbox shards; one killed, the others take its share and every acked message is stored once', async () => {
  await waitFor(
    async () => {
      const owned = await shares(workers);
      return sum(owned) === OUTBOX_SHARDS && owned.every((n) => n > 0);
    },
    'the three workers to share the shards',
    10_000,
  );

  const senderId = system.user('po-sender');
  const rooms: Room[] = [];
  for (let i = 0; i < CONVERSATIONS; i += 50) {
    rooms.push(
      ...(await Promise.all(Array.from({ length: Math.min(50, CONVERSATIONS - i) }, (_, k) => system.createPrivateRoom(senderId, system.user(`po-peer-${i + k}`))))),
    );
  }
  const sender = await system.connect(senderId);
  /** Sends one message to each room, retrying (with the same client_msg_id) what a dying worker left unanswered. */
  const sendAll = async (from: number, to: number) => {
    for (let i = from; i < to; i += 100) {
      await Promise.all(rooms.slice(i, Math.min(to, i + 100)).map((room, k) => retryingUnavailable(() => sender.send(room, `message ${i + k}`, `po-${i + k}`))));
    }
  };
  await sendAll(0, CONVERSATIONS / 2);
  await workers[0]!.kill();
  await sendAll(CONVERSATIONS / 2, CONVERSATIONS);

  const survivors = workers.slice(1);
  await waitFor(async () => sum(await shares(survivors)) === OUTBOX_SHARDS, "the survivors to take the killed worker's shards", 10_000);
  const stored = async () =>
    (
      await pool.query<{ rows: string; distinct: string }>('select count(*) as rows, count(distinct client_msg_id) as distinct from messages where sender_id = $1', [
        senderId,
      ])
    ).rows[0]!;
  await waitFor(async () => Number((await stored()).rows) >= CONVERSATIONS, 'every message in Postgres', 30_000);
  expect(await stored()).toEqual({ rows: String(CONVERSATIONS), distinct: String(CONVERSATIONS) });
  // The bounds that matter are the waits above; creating 2,000 conversations and sending 2,000
  // messages took 53 s of CI's 60 s default on a loaded machine.
}, 180_000);
