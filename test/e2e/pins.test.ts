// Pins in live rooms (moderation worker): the broadcaster, moderators and staff pin a stored
// message or a new text and unpin; viewers are refused and nothing changes. One pin per room,
// pushed to every gateway, in the join reply and over HTTP; it expires by itself and survives
// restarts.
import { ErrorCode, RoomKind, type LomiClient, type Room } from '@lomi/client';
import { waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import { createPinStore } from '@lomi/rooms';

let system: TestSystem;

beforeAll(async () => {
  // Pins as short as 1 s and a fast sweep, so expiry is testable in a second. A request
  // timeout longer than any test: a worker kind with nobody serving must be told at once.
  system = await startSystem({ gateways: 2, env: { PIN_MIN_DURATION_S: '1', PIN_SWEEP_MS: '100', REQUEST_TIMEOUT_MS: '600000' } });
});
afterAll(async () => {
  await system.stop();
});

async function liveRoom(name: string): Promise<{ room: Room; host: LomiClient; viewer: LomiClient }> {
  const room = await system.createLiveRoom(system.user(`${name}-host`));
  const host = await system.connect(system.user(`${name}-host`), { gateway: 0 });
  const viewer = await system.connect(system.user(`${name}-viewer`), { gateway: 1 });
  await host.join(room);
  await viewer.join(room);
  return { room, host, viewer };
}

async function pinned(room: Room) {
  const res = await system.api('GET', `/api/v1/live/${room.id}/pinned`);
  expect(res.status).toBe(200);
  return res.body.pin as { message: { content: string; seq: string }; pinnedBy: string; expiresAtMs: string } | null;
}

test('the broadcaster pins a stored message: pushed to both gateways, in later join replies and over HTTP', async () => {
  const { room, host, viewer } = await liveRoom('pa');
  await viewer.send(room, 'first');
  const ack = await viewer.send(room, 'pin me');
  const before = Date.now();
  await host.pin(room, { seq: Number(ack.seq) });

  for (const client of [host, viewer]) {
    const update = await system.pushes(client).waitFor('pin', (e) => Boolean(e.pin));
    expect(update.room).toMatchObject({ kind: RoomKind.ROOM_KIND_LIVE, id: room.id });
    expect(update.pin!.message).toMatchObject({ content: 'pin me', senderId: system.user('pa-viewer') });
    expect(Number(update.pin!.message!.seq)).toBe(Number(ack.seq));
    expect(update.pin!.pinnedBy).toBe(system.user('pa-host'));
    // The default duration: 20 minutes.
    expect(Number(update.pin!.expiresAtMs) - before).toBeGreaterThanOrEqual(1200_000 - 1000);
  }
  // The join reply also carries the viewer count: host and viewer, once the presence workers have them.
  await waitFor(async () => (await system.api('GET', `/api/v1/live/${room.id}/viewers`)).body.count === '2', 'two viewers');
  const late = await system.connect(system.user('pa-late'), { gateway: 1 });
  const joined = await late.join(room);
  expect(joined.pin?.message?.content).toBe('pin me');
  expect(Number(joined.viewerCount)).toBeGreaterThanOrEqual(2);
  expect((await pinned(room))?.message.content).toBe('pin me');
});

test("a viewer's pin and unpin are refused and change nothing", async () => {
  const { room, host, viewer } = await liveRoom('pb');
  await host.pin(room, { text: 'house rules' });
  await expect(viewer.pin(room, { text: 'my ad' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN });
  await expect(viewer.unpin(room)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN });
  expect((await pinned(room))?.message.content).toBe('house rules');
  // The only pin push anyone saw is the host's.
  await system.pushes(viewer).waitFor('pin', (e) => Boolean(e.pin));
  expect(system.pushes(viewer).of('pin')).toHaveLength(1);
});

test("a moderator pins and staff unpin: pushed like the broadcaster's", async () => {
  const { room, viewer } = await liveRoom('pm');
  const [modId, staffId] = [system.user('pm-mod'), system.user('pm-staff')];
  expect((await system.api('POST', '/api/v1/moderators/grant', { user_id: modId, stream_id: room.id })).status).toBe(200);
  expect((await system.api('POST', '/api/v1/staff/grant', { user_id: staffId })).status).toBe(200);
  const mod = await system.connect(modId, { gateway: 1 });
  await mod.pin(room, { text: 'from the mods' });
  const update = await system.pushes(viewer).waitFor('pin', (e) => Boolean(e.pin));
  expect(update.pin).toMatchObject({ pinnedBy: modId, message: { content: 'from the mods', senderId: modId } });
  const staff = await system.connect(staffId, { gateway: 0 });
  await staff.unpin(room);
  await system.pushes(viewer).waitFor('pin', (e) => !e.pin);
  expect(await pinned(room)).toBeNull();
});

test('a new pin replaces the old one; unpin pushes an update without a pin', async () => {
  const { room, host, viewer } = await liveRoom('pc');
  await host.pin(room, { text: 'one' }, 60);
  await host.pin(room, { text: 'two' }, 60);
  await system.pushes(viewer).waitFor('pin', (e) => e.pin?.message?.content === 'two');
  expect((await pinned(room))?.message.content).toBe('two');
  await host.unpin(room);
  await system.pushes(viewer).waitFor('pin', (e) => !e.pin);
  expect(await pinned(room)).toBeNull();
  expect((await viewer.join(room)).pin).toBeFalsy();
});

test('invalid pins are refused: unknown seq, duration out of range, private rooms', async () => {
  const { room, host } = await liveRoom('pd');
  await expect(host.pin(room, { seq: 99 })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_NOT_FOUND });
  await expect(host.pin(room, { text: 'x' }, 1801)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
  await expect(host.pin(room, { text: '   ' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
  const dm = await system.createPrivateRoom(system.user('pd-host'), system.user('pd-friend'));
  await expect(host.pin(dm, { text: 'x' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
  expect(await pinned(room)).toBeNull();
});

test('a pin expires by itself: the unpin is pushed and it is gone everywhere', async () => {
  const { room, host, viewer } = await liveRoom('pe');
  await host.pin(room, { text: 'brief' }, 1);
  const pinnedAt = Date.now();
  await system.pushes(viewer).waitFor('pin', (e) => Boolean(e.pin));
  await system.pushes(viewer).waitFor('pin', (e) => !e.pin, { timeoutMs: 3000 });
  expect(Date.now() - pinnedAt).toBeGreaterThanOrEqual(900);
  expect(await pinned(room)).toBeNull();
  expect((await viewer.join(room)).pin).toBeFalsy();
});

test('a pin survives a restart of the moderation workers and the loss of its Redis cache', async () => {
  const { room, host } = await liveRoom('pf');
  await host.pin(room, { text: 'still here' }, 600);
  for (const worker of system.moderationWorkers.splice(0)) await worker.stop();
  await createPinStore(await system.hotState()).forget(room);
  await system.startModerationWorker();
  const late = await system.connect(system.user('pf-late'));
  expect((await late.join(room)).pin?.message?.content).toBe('still here');
  expect((await pinned(room))?.message.content).toBe('still here');
  await host.unpin(room);
  expect(await pinned(room)).toBeNull();
});

test('with no moderation worker running, a pin is refused as UNAVAILABLE at once and changes nothing; the retry works', async () => {
  const { room, host } = await liveRoom('pu');
  for (const worker of system.moderationWorkers.splice(0)) await worker.stop();
  try {
    // NATS says there are no responders; waiting for the request timeout would outlast the test.
    await expect(host.pin(room, { text: 'nobody home' }, 600)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
  } finally {
    await system.startModerationWorker();
  }
  expect(await pinned(room)).toBeNull();
  await host.pin(room, { text: 'nobody home' }, 600);
  expect((await pinned(room))?.message.content).toBe('nobody home');
});

test('ending the stream removes its pin', async () => {
  const { room, host } = await liveRoom('pg');
  await host.pin(room, { text: 'bye soon' });
  expect((await system.api('POST', `/api/v1/live/${room.id}/end`)).status).toBe(200);
  // The moderation workers clear it when they hear of the end.
  await waitFor(async () => (await pinned(room)) === null, 'the pin of the ended stream to go');
  await expect(host.pin(room, { text: 'again' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_ROOM_CLOSED });
});
