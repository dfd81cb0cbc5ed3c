// History beyond Redis: with a tiny capped stream, recovery and history come from Postgres,
// seamlessly and in order; after Redis lost everything (FLUSHALL of a private redis-server) the
// room goes on under a new epoch above every seq ever reserved, a client that saw nothing lost
// still recovers across the reset from Postgres, and history steps over the reset's hole.
import { createKeys } from '@lomi/hot-state';
import { messageSeqs, startRedisServer, waitFor, type RedisServer } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import type { Room } from '@lomi/client';
import Redis from 'ioredis';

const TOTAL = 300;
let redisServer: RedisServer;
let system: TestSystem;
let redis: Redis;

beforeAll(async () => {
  redisServer = await startRedisServer();
  system = await startSystem({ gateways: 2, env: { REDIS_URL: redisServer.url, HISTORY_MAX_LEN: '20' } });
  redis = new Redis(redisServer.url);
});
afterAll(async () => {
  redis.disconnect();
  await system.stop();
  await redisServer.dispose();
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Resolves once the persister has written every message of the room to Postgres. */
function persisted(room: Room): Promise<void> {
  return waitFor(async () => (await redis.xlen(createKeys(system.namespace).outbox(room))) === 0, 'the outbox to drain');
}

test('a join far behind a trimmed stream recovers everything in order from Postgres', async () => {
  const host = system.user('t-host');
  const room = await system.createLiveRoom(host);
  const sender = await system.connect(host);
  const first = await sender.join(room);
  for (let i = 1; i <= TOTAL; i++) await sender.send(room, `m-${i}`);
  await persisted(room);
  expect(await redis.xlen(createKeys(system.namespace).history(room))).toBeLessThan(TOTAL);

  const late = await system.connect(system.user('t-late'), { gateway: 1 });
  const joined = await late.join(room, { sinceSeq: 0, epoch: first.epoch! });
  expect(joined.recovered).toBe(true);
  expect(messageSeqs(joined.messages)).toEqual(range(1, TOTAL));
  expect(joined.messages![0]!.content).toBe('m-1');

  const oldest = await late.history(room, { afterSeq: 0, limit: 50 });
  expect(messageSeqs(oldest.messages)).toEqual(range(1, 50));
  const middle = await late.history(room, { beforeSeq: 151, limit: 30 });
  expect(messageSeqs(middle.messages)).toEqual(range(121, 150));
});

test('after Redis loses everything, the room goes on under a new epoch and recovery crosses the reset', async () => {
  const [a, b] = [system.user('f-a'), system.user('f-b')];
  const room = await system.createPrivateRoom(a, b);
  const alice = await system.connect(a);
  const before = await alice.join(room);
  for (let i = 1; i <= 10; i++) await alice.send(room, `before-${i}`);
  await persisted(room);
  await alice.close();

  await redis.flushall();

  const bob = await system.connect(b, { gateway: 1 });
  const stale = await bob.join(room, { sinceSeq: 5, epoch: before.epoch! });
  expect(stale.epoch).not.toBe(before.epoch);
  const start = Number(stale.epochStartSeq);
  expect(start).toBeGreaterThanOrEqual(10);
  expect(Number(stale.topSeq)).toBe(start);
  // Nothing bob saw was lost: he recovers the rest of the old epoch from Postgres.
  expect(stale.recovered).toBe(true);
  expect(messageSeqs(stale.messages)).toEqual(range(6, 10));

  const ack = await bob.send(room, 'after the flush');
  expect(Number(ack.seq)).toBe(start + 1);
  const all = await bob.history(room, { limit: 100 });
  expect(messageSeqs(all.messages)).toEqual([...range(1, 10), start + 1]);
  expect(all.hasMore).toBeFalsy();
  expect(all.messages![0]!.content).toBe('before-1');

  // With the new epoch, recovery works across Postgres, the hole and Redis.
  const again = await system.connect(a, { gateway: 0 });
  const recovered = await again.join(room, { sinceSeq: 3, epoch: stale.epoch! });
  expect(recovered.recovered).toBe(true);
  expect(recovered.epoch).toBe(stale.epoch);
  expect(messageSeqs(recovered.messages)).toEqual([...range(4, 10), start + 1]);
});
