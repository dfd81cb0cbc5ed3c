// Viewer counts of live rooms: distinct users across gateways, pushed to the room and readable
// over HTTP, kept honest by TTLs when a gateway dies without a word, and recorded as viewing
// sessions in Postgres.
import { connectNatsBus, createSubjects } from '@lomi/bus';
import { connectRedis, createKeys } from '@lomi/hot-state';
import { createLogger } from '@lomi/service-runtime';
import { createDb } from '@lomi/db';
import { USERS_PER_SCRIPT } from '@lomi/presence-worker';
import { internal, type Room } from '@lomi/protocol';
import { waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

/** The presence keys as Redis holds them (one server or the cluster of REDIS_CLUSTER_NODES), for what only they show: each connection's expiry. */
const openRedis = () => connectRedis(system.env.REDIS_URL!, createLogger('test', 'silent'), system.env.REDIS_CLUSTER_NODES);

const TTL_MS = 2000;
const HEARTBEAT_MS = 500;
let system: TestSystem;

beforeAll(async () => {
  // Two presence workers: reports of one room land on both, and pushes must still coalesce.
  system = await startSystem({
    gateways: 2,
    presenceWorkers: 2,
    env: { PRESENCE_TTL_MS: String(TTL_MS), PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS), PRESENCE_SWEEP_MS: '200' },
  });
});
afterAll(() => system.stop());

/** Presence reports of one kind the presence workers have received so far, all workers together. */
async function reportsReceived(kind: 'changes' | 'heartbeat'): Promise<number> {
  let n = 0;
  for (const worker of system.presenceWorkers) {
    const metric = await worker.registry.getSingleMetric('lomi_presence_reports_total')!.get();
    n += metric.values.filter((v) => v.labels.kind === kind).reduce((sum, v) => sum + v.value, 0);
  }
  return n;
}

async function viewers(room: Room): Promise<{ count: number; peak: number }> {
  const res = await system.api('GET', `/api/v1/live/${room.id}/viewers`);
  expect(res.status).toBe(200);
  // 64-bit numbers are strings on the wire, as in the proto3 JSON mapping.
  expect(typeof res.body.count).toBe('string');
  return { ...res.body, count: Number(res.body.count), peak: Number(res.body.peak) };
}

test('two users on different gateways: 2 viewers, pushed to both and readable over HTTP', async () => {
  const room = await system.createLiveRoom(system.user('caster'));
  const alice = await system.connect(system.user('alice'), { gateway: 0 });
  const bob = await system.connect(system.user('bob'), { gateway: 1 });
  await alice.join(room);
  await bob.join(room);
  for (const client of [alice, bob]) {
    const pushed = await system.pushes(client).waitFor('viewers', (v) => Number(v.count) === 2);
    expect(pushed.room).toMatchObject({ id: room.id });
    expect(Number(pushed.peak)).toBe(2);
  }
  expect(await viewers(room)).toMatchObject({ count: 2, peak: 2, room: { id: room.id } });

  const mark = system.pushes(alice).mark();
  await bob.leave(room);
  await system.pushes(alice).waitFor('viewers', (v) => Number(v.count) === 1, { after: mark });
  expect(await viewers(room)).toMatchObject({ count: 1, peak: 2 });
});

test('a user with two connections on two gateways counts once', async () => {
  const room = await system.createLiveRoom(system.user('caster'));
  const carol = system.user('carol');
  const first = await system.connect(carol, { gateway: 0 });
  const second = await system.connect(carol, { gateway: 1 });
  const dave = await system.connect(system.user('dave'), { gateway: 1 });
  await first.join(room);
  await second.join(room);
  await dave.join(room);
  await waitFor(async () => (await viewers(room)).count === 2, '2 viewers');
  await system.pushes(dave).waitFor('viewers', (v) => Number(v.count) === 2);
  expect(
    system
      .pushes(dave)
      .of('viewers')
      .every((v) => Number(v.count) <= 2),
  ).toBe(true);

  // Joining again on the same connection changes nothing; closing one of her connections neither.
  await second.join(room);
  await first.close();
  const redis = await openRedis();
  const connections = createKeys(system.namespace).userConnections(carol);
  // The gateway reports the close after the leave, so once it is processed so is the leave.
  await waitFor(async () => (await redis.zcard(connections)) === 1, "the close of carol's first connection");
  redis.disconnect();
  expect(await viewers(room)).toMatchObject({ count: 2 });
  // Her last connection leaving makes her leave.
  await dave.leave(room);
  await waitFor(async () => (await viewers(room)).count === 1, 'carol alone');
  await second.close();
  await waitFor(async () => (await viewers(room)).count === 0, 'no viewers');
});

test('a gateway killed with SIGKILL stops counting within the TTL', async () => {
  const room = await system.createLiveRoom(system.user('caster'));
  const doomed = await system.spawnGateway();
  const erin = await system.connect(system.user('erin'), { gateway: doomed });
  const frank = await system.connect(system.user('frank'), { gateway: 0 });
  await erin.join(room);
  await frank.join(room);
  await system.pushes(frank).waitFor('viewers', (v) => Number(v.count) === 2);

  const mark = system.pushes(frank).mark();
  await doomed.kill();
  const killedAt = Date.now();
  await system.pushes(frank).waitFor('viewers', (v) => Number(v.count) === 1, { after: mark, timeoutMs: TTL_MS + 3000 });
  // The TTL, a sweep and at most one push interval.
  expect(Date.now() - killedAt).toBeLessThan(TTL_MS + 1500);
  expect(await viewers(room)).toMatchObject({ count: 1, peak: 2 });
});

test('viewing sessions are recorded in Postgres with their end, and the stream keeps peak and total', async () => {
  const db = createDb(system.env.DATABASE_URL!, system.namespace);
  try {
    const room = await system.createLiveRoom(system.user('caster'));
    const users = ['gina', 'hal', 'ivy'].map((n) => system.user(n));
    const clients = await Promise.all(users.map((u, i) => system.connect(u, { gateway: i % 2 })));
    await Promise.all(clients.map((c) => c.join(room)));
    await waitFor(async () => (await viewers(room)).count === 3, '3 viewers');
    await clients[0]!.leave(room);
    await clients[1]!.close();
    await waitFor(async () => (await viewers(room)).count === 1, '1 viewer');
    await clients[0]!.join(room); // a second session of the same user

    const sessions = () => db.selectFrom('live_stream_viewers').selectAll().where('stream_id', '=', room.id!).orderBy('joined_at').execute();
    // Starts and ends are written in batches, in any order: wait for all of them.
    await waitFor(async () => {
      const rows = await sessions();
      return rows.length === 4 && rows.filter((r) => r.left_at !== null).length === 2;
    }, 'four sessions, two of them closed');
    const rows = await sessions();
    const closed = rows.filter((r) => r.left_at !== null);
    expect(closed.map((r) => r.user_id).sort()).toEqual([users[0], users[1]].sort());
    for (const r of closed) expect(r.left_at!.getTime()).toBeGreaterThanOrEqual(r.joined_at.getTime());
    expect(
      rows
        .filter((r) => r.left_at === null)
        .map((r) => r.user_id)
        .sort(),
    ).toEqual([users[0], users[2]].sort());

    await waitFor(async () => {
      const stream = await db.selectFrom('live_streams').selectAll().where('id', '=', room.id!).executeTakeFirstOrThrow();
      return stream.peak_viewers === 3 && stream.total_viewers === 3;
    }, 'peak 3 and total 3 in live_streams');
  } finally {
    await db.destroy();
  }
});

test('ending the stream closes every open viewing session', async () => {
  const db = createDb(system.env.DATABASE_URL!, system.namespace);
  try {
    const room = await system.createLiveRoom(system.user('caster'));
    const viewer = await system.connect(system.user('jack'));
    await viewer.join(room);
    await waitFor(async () => (await viewers(room)).count === 1, '1 viewer');
    expect((await system.api('POST', `/api/v1/live/${room.id}/end`)).status).toBe(200);
    await waitFor(async () => {
      const open = await db.selectFrom('live_stream_viewers').select('id').where('stream_id', '=', room.id!).where('left_at', 'is', null).execute();
      return open.length === 0;
    }, 'sessions closed');
    // The viewer's socket is still in the room, but an ended stream has no viewers.
    expect(await viewers(room)).toMatchObject({ count: 0, peak: 1 });
  } finally {
    await db.destroy();
  }
});

test("every socket is listed as the user's connection while open", async () => {
  const redis = await openRedis();
  try {
    const key = createKeys(system.namespace).userConnections(system.user('kim'));
    const kim = await system.connect(system.user('kim'), { gateway: 1 });
    await waitFor(async () => (await redis.zcard(key)) === 1, 'one connection');
    const [, expiry] = await redis.zrange(key, 0, -1, 'WITHSCORES');
    expect(Number(expiry)).toBeGreaterThan(Date.now());
    await kim.close();
    await waitFor(async () => (await redis.zcard(key)) === 0, 'no connection');
  } finally {
    redis.disconnect();
  }
});

test("a user's sockets: a report lists several, a late one never shortens an expiry, expired ones are dropped", async () => {
  const redis = await openRedis();
  const bus = await connectNatsBus(system.env.NATS_URL!, 'test-gateway', createLogger('test', 'silent'), { requestTimeoutMs: 5000 });
  const user = system.user('lena');
  const key = createKeys(system.namespace).userConnections(user);
  // As a gateway reports them; `sentAtMs` sets each socket's expiry (sent at + TTL).
  const report = (sentAtMs: number, ...connectionIds: string[]) =>
    bus.publish(
      createSubjects(system.namespace).presenceReports,
      internal.PresenceReport.encode({
        gatewayId: 'gw-test',
        ttlMs: TTL_MS,
        sentAtMs,
        connected: connectionIds.map((connectionId) => ({ connectionId, userId: user })),
      }).finish(),
    );
  /** Socket → expiry, as Redis holds them. */
  const expiries = async (): Promise<Record<string, number>> => {
    const flat = await redis.zrange(key, 0, -1, 'WITHSCORES');
    return Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, Number(flat[i + 1])]] : [])));
  };
  try {
    const fresh = Date.now();
    report(fresh, 'phone', 'tablet');
    await waitFor(async () => Object.keys(await expiries()).length === 2, 'both sockets listed');
    expect(await expiries()).toEqual({ phone: fresh + TTL_MS, tablet: fresh + TTL_MS });

    // An older report of the phone, handled after the newer one: its expiry stays.
    report(fresh - 200, 'phone', 'laptop');
    await waitFor(async () => 'laptop' in (await expiries()), 'the laptop listed');
    expect(await expiries()).toMatchObject({ phone: fresh + TTL_MS, laptop: fresh - 200 + TTL_MS });

    // The phone's gateway keeps reporting it, so the key lives on; the sockets no report refreshes
    // (the tablet, the laptop) go once expired.
    const refresh = async (at: number) => {
      await new Promise((resolve) => setTimeout(resolve, at - Date.now()));
      const sentAt = Date.now();
      report(sentAt, 'phone');
      await waitFor(async () => (await expiries()).phone === sentAt + TTL_MS, 'the phone refreshed');
    };
    await refresh(fresh + TTL_MS / 4);
    expect(Object.keys(await expiries()).sort()).toEqual(['laptop', 'phone', 'tablet']);
    await refresh(fresh + TTL_MS + 50);
    expect(Object.keys(await expiries())).toEqual(['phone']);
    expect(await redis.pttl(key)).toBeGreaterThan(0);
  } finally {
    await bus.drain();
    redis.disconnect();
  }
});

test('a burst of joins reaches the presence workers as a few batched reports, every viewer counted', async () => {
  const room = await system.createLiveRoom(system.user('caster'));
  const reports = () => reportsReceived('changes');
  const before = await reports();
  const crowd = await Promise.all(Array.from({ length: 40 }, (_, i) => system.connect(system.user(`burst${i}`), { gateway: i % 2 })));
  await Promise.all(crowd.map((c) => c.join(room)));
  await waitFor(async () => (await viewers(room)).count === 40, '40 viewers');
  // 40 sockets opening and 40 joins: one report each would be 80.
  expect((await reports()) - before).toBeLessThan(20);
});

test('a crowd too big for one presence script run is counted exactly, on the way in and out', async () => {
  const db = createDb(system.env.DATABASE_URL!, system.namespace);
  try {
    const room = await system.createLiveRoom(system.user('caster'));
    const size = USERS_PER_SCRIPT + 44;
    // All on one gateway: its heartbeats list the whole crowd at once, and a departure burst
    // reports hundreds of leaves together; the workers run each list in several scripts.
    const crowd = await Promise.all(Array.from({ length: size }, (_, i) => system.connect(system.user(`crowd${i}`), { gateway: 0 })));
    await Promise.all(crowd.map((c) => c.join(room)));
    const watcher = crowd[size - 1]!;
    await system.pushes(watcher).waitFor('viewers', (v) => Number(v.count) === size);
    expect(await viewers(room)).toMatchObject({ count: size, peak: size });

    const mark = system.pushes(watcher).mark();
    await Promise.all(crowd.slice(0, size - 3).map((c) => c.close()));
    await system.pushes(watcher).waitFor('viewers', (v) => Number(v.count) === 3, { after: mark });
    // Heartbeats of the three left keep them counted and bring nobody back.
    await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_MS));
    expect(await viewers(room)).toMatchObject({ count: 3, peak: size });

    // Every arrival and departure of every part was seen: one session each, all but three closed.
    const sessions = () => db.selectFrom('live_stream_viewers').selectAll().where('stream_id', '=', room.id!).execute();
    await waitFor(async () => {
      const rows = await sessions();
      return rows.length === size && rows.filter((r) => r.left_at === null).length === 3;
    }, `${size} sessions, 3 open`);
    await Promise.all(crowd.slice(size - 3).map((c) => c.close()));
  } finally {
    await db.destroy();
  }
});

test('heartbeats keep viewers counted past the TTL, and go out in slices rather than at once', async () => {
  const room = await system.createLiveRoom(system.user('caster'));
  const heartbeatReports = () => reportsReceived('heartbeat');
  const clients = await Promise.all(['lea', 'max', 'noa', 'oli'].map((n) => system.connect(system.user(n), { gateway: 0 })));
  await Promise.all(clients.map((c) => c.join(room)));
  await waitFor(async () => (await viewers(room)).count === 4, '4 viewers');

  const before = await heartbeatReports();
  await new Promise((resolve) => setTimeout(resolve, 2.5 * TTL_MS));
  expect(await viewers(room)).toMatchObject({ count: 4 });
  // Ten heartbeat intervals. Sent whole, each gateway's heartbeat would be one report; gateway 0
  // alone holds at least 8 entries (4 sockets, 4 viewers), each of its slices at least one.
  expect((await heartbeatReports()) - before).toBeGreaterThanOrEqual(10 * 8 * 0.8);
  await Promise.all(clients.map((c) => c.close()));
});
