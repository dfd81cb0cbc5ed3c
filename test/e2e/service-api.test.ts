// The app back end's API: authenticated with the service token, never with a user JWT; ending
// a stream closes it for sending and tells everyone in the room.
import { ErrorCode } from '@lomi/client';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 1, messageWorkers: 2 });
});
afterAll(() => system.stop());

async function post(path: string, authorization: string | undefined, body: unknown) {
  const res = await fetch(`${system.httpUrl()}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

test('the service API refuses a missing token, a user JWT and a wrong token', async () => {
  const body = { broadcaster_id: 'bx' };
  expect((await post('/api/v1/live', undefined, body)).status).toBe(401);
  expect((await post('/api/v1/live', `Bearer ${await system.token('bx')}`, body)).status).toBe(401);
  expect((await post('/api/v1/live', 'Bearer wrong-token-wrong-token-wrong', body)).status).toBe(401);
});

test('bodies are read in either field-name form; answers are lowerCamel with 64-bit numbers as strings', async () => {
  const auth = `Bearer ${system.serviceToken}`;
  const camel = await post('/api/v1/live', auth, { broadcasterId: 'b-camel', id: `camel-${Date.now()}` });
  const snake = await post('/api/v1/live', auth, { broadcaster_id: 'b-snake', id: `snake-${Date.now()}` });
  for (const [res, broadcasterId] of [
    [camel, 'b-camel'],
    [snake, 'b-snake'],
  ] as const) {
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ broadcasterId, status: 'live', startedAtMs: expect.stringMatching(/^\d+$/) });
    expect(Object.keys(res.body).filter((k) => k.includes('_'))).toEqual([]);
  }
  const pair = await post('/api/v1/conversations', auth, { userA: 'ca', user_b: 'cb' });
  expect(pair.status).toBe(201);
  expect(pair.body.memberIds.sort()).toEqual(['ca', 'cb']);
});

test('bad bodies get 400 with a reason', async () => {
  const auth = `Bearer ${system.serviceToken}`;
  const same = await post('/api/v1/conversations', auth, { user_a: 'same', user_b: 'same' });
  expect(same.status).toBe(400);
  expect(same.body.error.message).toMatch(/different/i);
  expect((await post('/api/v1/live', auth, { broadcaster_id: '' })).status).toBe(400);
  const res = await fetch(`${system.httpUrl()}/api/v1/live`, { method: 'POST', headers: { authorization: auth }, body: '{nope' });
  expect(res.status).toBe(400);
  expect((await post('/api/v1/live/does-not-exist/end', auth, {})).status).toBe(404);
});

test('ending a stream pushes room_closed and refuses new messages and joins', async () => {
  const created = await system.api('POST', '/api/v1/live', { broadcaster_id: 'caster', id: `stream-${Date.now()}` });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ broadcasterId: 'caster', status: 'live' });
  const room = { kind: 1, id: created.body.id as string };
  const viewer = await system.connect('fan');
  await viewer.join(room);
  const closed = new Promise((resolve) => viewer.on('roomClosed', resolve));

  const ended = await system.api('POST', `/api/v1/live/${room.id}/end`);
  expect(ended.status).toBe(200);
  expect(ended.body.status).toBe('ended');
  expect(await closed).toMatchObject({ room: { id: room.id } });

  await expect(viewer.send(room, 'too late')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_ROOM_CLOSED });
  const other = await system.connect('latecomer');
  await expect(other.join(room)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_ROOM_CLOSED });
  await expect(other.join({ kind: 1, id: 'never-created' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_NOT_FOUND });
});

test('once a stream has ended, no message worker stores a send, even one that authorised sends there just before', async () => {
  // Workers authorise sends against the room facts they saw last; the append must notice the end.
  const created = await system.api('POST', '/api/v1/live', { broadcaster_id: 'caster2', id: `stream-w-${Date.now()}` });
  const room = { kind: 1, id: created.body.id as string };
  const fan = await system.connect('fan2');
  await fan.join(room);
  // Enough sends that both workers of the queue group have seen the room live.
  for (let i = 0; i < 20; i++) await fan.send(room, `live ${i}`);
  expect((await system.api('POST', `/api/v1/live/${room.id}/end`)).status).toBe(200);
  for (let i = 0; i < 20; i++) {
    await expect(fan.send(room, `after end ${i}`)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_ROOM_CLOSED });
  }
  const history = await fan.history(room, { limit: 50 });
  expect(history.messages!.filter((m) => m.content?.startsWith('after end'))).toEqual([]);
});

test('a stream created after workers refused joins to its id takes joins and sends at once', async () => {
  const id = `stream-late-${Date.now()}`;
  const room = { kind: 1, id };
  const early = await system.connect('early-bird');
  // Through both workers of the queue group: each now knows the room as missing.
  for (let i = 0; i < 10; i++) {
    await expect(early.join(room)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_NOT_FOUND });
  }
  expect((await system.api('POST', '/api/v1/live', { broadcaster_id: 'late-caster', id })).status).toBe(201);
  await early.join(room);
  for (let i = 0; i < 10; i++) expect(Number((await early.send(room, `on time ${i}`)).seq)).toBe(i + 1);
});

test('a send is timed at the gateway and at the message worker, in buckets that tell 10 ms from 20', async () => {
  const workerSends = async () => {
    const values = [];
    for (const worker of system.workers) {
      const metric = await worker.registry.getSingleMetric('lomi_worker_command_seconds')!.get();
      values.push(...metric.values.filter((v) => v.labels.command === 'send' && v.labels.outcome === 'ok'));
    }
    return { count: values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count')).reduce((sum, v) => sum + v.value, 0), values };
  };
  const room = await system.createLiveRoom(system.user('timed-host'));
  const sender = await system.connect(system.user('timed-host'));
  await sender.join(room);
  const before = await workerSends();
  await sender.send(room, 'timed');

  // On-call reads the send-ack objective (p99 under 15 ms) off these two histograms.
  const gateway = await (await fetch(`${system.metricsUrl()}/metrics`)).text();
  expect(gateway).toMatch(/^lomi_gateway_command_seconds_bucket\{[^}]*le="0\.015"[^}]*command="send",outcome="ok"[^}]*\} [1-9]/m);
  const after = await workerSends();
  expect(after.count - before.count).toBe(1);
  expect(after.values.some((v) => v.labels.le === 0.015)).toBe(true);
});

test('health and readiness answer on both ports, metrics only on the metrics port', async () => {
  for (const base of [system.httpUrl(), system.metricsUrl()]) {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  }
  const metrics = await (await fetch(`${system.metricsUrl()}/metrics`)).text();
  expect(metrics).toMatch(/lomi_gateway_connections/);
  expect(metrics).toMatch(/lomi_gateway_upgrades_total/);
  // The public port is reachable by clients: it does not tell them the gateway's internals.
  expect((await fetch(`${system.httpUrl()}/metrics`)).status).toBe(404);
});
