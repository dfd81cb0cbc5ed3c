// A reset leaves a hole of seqs that name no message (between the old epoch's last stored seq and
// the new epoch's start). History pages step over it — never an empty page that says more
// follow — and a gateway whose gap fill lands across it applies the reset instead of stalling
// or skipping the room's messages as lost.
import { connectNatsBus, createSubjects } from '@lomi/bus';
import { createKeys } from '@lomi/hot-state';
import { createLogger } from '@lomi/service-runtime';
import { chat, internal, type Room } from '@lomi/protocol';
import { MessageLog, messageSeqs, startRedisServer, waitFor, type RedisServer } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import type { LomiClient } from '@lomi/client';
import Redis from 'ioredis';

let redisServer: RedisServer;
let system: TestSystem;
let redis: Redis;

beforeAll(async () => {
  redisServer = await startRedisServer();
  // Small blocks keep the holes small; their size does not matter to what is asserted.
  system = await startSystem({ gateways: 1, env: { REDIS_URL: redisServer.url, SEQ_BLOCK_SIZE: '10' } });
  redis = new Redis(redisServer.url);
});
afterAll(async () => {
  redis.disconnect();
  await system.stop();
  await redisServer.dispose();
});

/** Sends `n` texts and waits until the persister has them in Postgres, so a flush loses none. */
async function sendPersisted(client: LomiClient, room: Room, prefix: string, n: number): Promise<number[]> {
  const sent: number[] = [];
  for (let i = 1; i <= n; i++) sent.push(Number((await client.send(room, `${prefix}-${i}`)).seq));
  await waitFor(async () => (await redis.xlen(createKeys(system.namespace).outbox(room))) === 0, 'the outbox to drain');
  return sent;
}

test('history pages step over the holes of two resets in both directions', async () => {
  const host = system.user('holes-host');
  const room = await system.createLiveRoom(host);
  const client = await system.connect(host);
  await client.join(room);
  const stored = await sendPersisted(client, room, 'first', 4);
  await redis.flushall();
  stored.push(...(await sendPersisted(client, room, 'second', 3)));
  await redis.flushall();
  stored.push(...(await sendPersisted(client, room, 'third', 2)));
  // Two holes: between the epochs the seqs jump.
  expect(stored.slice(0, 4)).toEqual([1, 2, 3, 4]);
  expect(stored[4]).toBeGreaterThan(5);
  expect(stored[7]).toBeGreaterThan(stored[6]! + 1);

  const forward: number[][] = [];
  for (let after = 0, more = true; more;) {
    const page = await client.history(room, { afterSeq: after, limit: 3 });
    expect(page.messages!.length).toBeGreaterThan(0);
    forward.push(messageSeqs(page.messages));
    after = forward.at(-1)!.at(-1)!;
    more = Boolean(page.hasMore);
  }
  expect(forward).toEqual([stored.slice(0, 3), stored.slice(3, 6), stored.slice(6, 9)]);

  const backward: number[][] = [];
  for (let before = stored.at(-1)! + 1, more = true; more;) {
    const page = await client.history(room, { beforeSeq: before, limit: 4 });
    expect(page.messages!.length).toBeGreaterThan(0);
    backward.push(messageSeqs(page.messages));
    before = backward.at(-1)![0]!;
    more = Boolean(page.hasMore);
  }
  expect(backward).toEqual([stored.slice(5, 9), stored.slice(1, 5), stored.slice(0, 1)]);

  // A page starting inside a hole begins at the next message.
  expect(messageSeqs((await client.history(room, { afterSeq: 5, limit: 2 })).messages)).toEqual(stored.slice(4, 6));
});

test('a gap fill that lands across an unheard reset applies it: the room goes on, nothing is skipped as lost', async () => {
  const host = system.user('fill-host');
  const room = await system.createLiveRoom(host);
  const sender = await system.connect(host);
  const viewer = await system.connect(system.user('fill-viewer'));
  const log = new MessageLog(viewer);
  const joined = await viewer.join(room);
  await sender.join(room);
  const before = await sendPersisted(sender, room, 'kept', 3);
  await log.waitFor(room, 3);
  // Redis loses the room, and no worker reconnects (no store_reset): the gateway has not heard.
  await redis.flushall();
  const unrecoverable = await system.gateways[0]!.metrics.unrecoverableGaps.get();

  // The gateway receives a message it cannot place: the one after a seq it never got, as when
  // NATS dropped a message just before Redis lost both. Its gap fill reaches the workers, whose
  // reply lands in the room's new epoch.
  const bus = await connectNatsBus(system.env.NATS_URL!, 'reset-holes-test', createLogger('test', 'silent'), { requestTimeoutMs: 5000 });
  const lostSeq = before.at(-1)! + 2;
  const lostMessage = chat.ChatMessage.create({ room, seq: lostSeq, id: 'lost-with-redis', senderId: host, content: 'lost', createdAtMs: Date.now() });
  bus.publish(createSubjects(system.namespace).room(room), internal.RoomEvent.encode({ message: lostMessage }).finish());
  await bus.drain();

  const reset = await system.pushes(viewer).waitFor('roomReset', (r) => r.room?.id === room.id);
  expect(reset.previousEpoch).toBe(joined.epoch);
  expect(Number(reset.lastSeq)).toBe(before.at(-1));
  expect(Number(reset.startSeq)).toBeGreaterThanOrEqual(lostSeq);

  const next = Number((await sender.send(room, 'after the reset')).seq);
  expect(next).toBe(Number(reset.startSeq) + 1);
  await log.waitFor(room, 4);
  expect(log.seqs(room)).toEqual([...before, next]);
  expect((await system.gateways[0]!.metrics.unrecoverableGaps.get()).values[0]?.value ?? 0).toBe(unrecoverable.values[0]?.value ?? 0);
});
