// Redis keeps a room only while it is in use: its history stream expires HISTORY_TTL_SECONDS
// after the room's last message, its seq, epoch and seq lease HISTORY_META_TTL_SECONDS after it,
// and a drained outbox is deleted. What left Redis is still served from Postgres: a client back
// after the history expired recovers in order under the same epoch; once the epoch expired too,
// the room is reset to a new epoch above every seq ever reserved, and a client back then still
// recovers from Postgres across the reset.
import { createKeys } from '@lomi/hot-state';
import { loadMessageWorkerConfig } from '@lomi/message-worker';
import { DEFAULT_URLS, messageSeqs, waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import type { Room } from '@lomi/client';
import Redis from 'ioredis';

const HISTORY_TTL_S = 1;
const META_TTL_S = 4;
let system: TestSystem;
let redis: Redis;
let keys: ReturnType<typeof createKeys>;

beforeAll(async () => {
  system = await startSystem({
    gateways: 2,
    env: { HISTORY_TTL_SECONDS: String(HISTORY_TTL_S), HISTORY_META_TTL_SECONDS: String(META_TTL_S) },
  });
  redis = new Redis(DEFAULT_URLS.REDIS_URL);
  keys = createKeys(system.namespace);
});
afterAll(async () => {
  redis.disconnect();
  await system.stop();
});

const gone = (key: string) => waitFor(async () => (await redis.exists(key)) === 0, `${key} to leave Redis`, 15_000);

/** Seconds left to live of each key (-2: no such key, -1: no expiry). */
async function ttls(room: Room) {
  const [history, seq, epoch, lease] = await Promise.all([keys.history(room), keys.seq(room), keys.epoch(room), keys.seqLease(room)].map((k) => redis.ttl(k)));
  return { history, seq, epoch, lease };
}

test('an idle room leaves Redis stream first, and a client coming back still recovers from Postgres', async () => {
  const [a, b] = [system.user('r-a'), system.user('r-b')];
  const room = await system.createPrivateRoom(a, b);
  const alice = await system.connect(a);
  const first = await alice.join(room);
  // Even a room nobody has written to yet expires.
  expect((await ttls(room)).epoch).toBeGreaterThan(0);
  for (let i = 1; i <= 5; i++) await alice.send(room, `m-${i}`);

  // The persister drained the outbox into Postgres and deleted it, instead of leaving an empty stream.
  await gone(keys.outbox(room));
  const live = await ttls(room);
  expect(live.history).toBeGreaterThan(0);
  expect(live.history).toBeLessThanOrEqual(HISTORY_TTL_S);
  for (const ttl of [live.seq, live.epoch, live.lease]) {
    expect(ttl).toBeGreaterThan(HISTORY_TTL_S);
    expect(ttl).toBeLessThanOrEqual(META_TTL_S);
  }

  await gone(keys.history(room));
  expect(await redis.exists(keys.epoch(room))).toBe(1);
  const bob = await system.connect(b, { gateway: 1 });
  const back = await bob.join(room, { sinceSeq: 2, epoch: first.epoch! });
  expect(back.recovered).toBe(true);
  expect(back.epoch).toBe(first.epoch);
  expect(messageSeqs(back.messages)).toEqual([3, 4, 5]);
  expect(back.messages!.map((m) => m.content)).toEqual(['m-3', 'm-4', 'm-5']);

  // A new message brings the room back, expiring again from now.
  expect(Number((await bob.send(room, 'm-6')).seq)).toBe(6);
  expect(await redis.xlen(keys.history(room))).toBe(1);
  expect((await ttls(room)).history).toBeGreaterThan(0);
  expect(messageSeqs((await bob.history(room, { limit: 100 })).messages)).toEqual([1, 2, 3, 4, 5, 6]);
});

test('once its seq and epoch expired too, the room goes on under a new epoch and a returning client still recovers', async () => {
  const host = system.user('r-host');
  const room = await system.createLiveRoom(host);
  const sender = await system.connect(host);
  const first = await sender.join(room);
  for (let i = 1; i <= 3; i++) await sender.send(room, `old-${i}`);
  await sender.close();
  await gone(keys.epoch(room));
  expect(await redis.exists(keys.seq(room))).toBe(0);
  expect(await redis.exists(keys.seqLease(room))).toBe(0);

  const viewer = await system.connect(system.user('r-viewer'), { gateway: 1 });
  const back = await viewer.join(room, { sinceSeq: 1, epoch: first.epoch! });
  expect(back.epoch).not.toBe(first.epoch);
  const start = Number(back.epochStartSeq);
  expect(start).toBeGreaterThanOrEqual(3);
  expect(Number(back.topSeq)).toBe(start);
  expect(back.recovered).toBe(true);
  expect(back.messages!.map((m) => m.content)).toEqual(['old-2', 'old-3']);

  const host2 = await system.connect(host, { gateway: 0 });
  await host2.join(room);
  expect(Number((await host2.send(room, 'new')).seq)).toBe(start + 1);
  expect(messageSeqs((await viewer.history(room, { limit: 100 })).messages)).toEqual([1, 2, 3, start + 1]);
});

test('a seq and epoch set to expire before the stream they describe are refused at start', () => {
  expect(() => loadMessageWorkerConfig({ ...DEFAULT_URLS, HISTORY_TTL_SECONDS: '600', HISTORY_META_TTL_SECONDS: '60' })).toThrow(
    /HISTORY_META_TTL_SECONDS="60": must be at least HISTORY_TTL_SECONDS/,
  );
});
