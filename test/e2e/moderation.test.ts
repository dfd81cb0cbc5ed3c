// Moderation roles, decided by the workers from stored grants on every command: the broadcaster
// and staff grant and revoke moderators (of a stream or of the broadcaster's whole channel), the
// broadcaster, moderators and staff pin, viewers do neither; nobody in a room acts on the
// broadcaster or on staff, and a moderator not on another moderator. A grant made through one
// gateway holds through the other within a second. The joiner's role is in the join reply; every
// action is in the stream's moderation log; anyone in a room may report a message.
import { ErrorCode, ModeratorScope, Role, type LomiClient, type Room } from '@lomi/client';
import { within } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import { createVersionedCacheStore, SCOPE_PIECE, streamScope } from '@lomi/moderation';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 2, messageWorkers: 2 });
});
afterAll(() => system.stop());

const forbidden = (pattern: RegExp) => ({ code: ErrorCode.ERROR_CODE_FORBIDDEN, message: expect.stringMatching(pattern) });

/** A live stream of `${name}-host`, whose host is connected to gateway 0. */
async function stream(name: string): Promise<{ room: Room; host: LomiClient }> {
  const room = await system.createLiveRoom(system.user(`${name}-host`));
  const host = await system.connect(system.user(`${name}-host`), { gateway: 0 });
  return { room, host };
}

async function pinnedBy(room: Room): Promise<string | undefined> {
  return (await system.api('GET', `/api/v1/live/${room.id}/pinned`)).body.pin?.pinnedBy;
}

async function get(path: string, userId: string) {
  const res = await fetch(`${system.httpUrl(1)}${path}`, { headers: { authorization: `Bearer ${await system.token(userId)}` } });
  return { status: res.status, body: (await res.json()) as any };
}

test('a moderator granted through gateway A pins through gateway B within a second, and not after the revoke; a viewer may do neither', async () => {
  const { room, host } = await stream('ma');
  const modId = system.user('ma-mod');
  const mod = await system.connect(modId, { gateway: 1 });
  const viewer = await system.connect(system.user('ma-viewer'), { gateway: 1 });

  await expect(viewer.pin(room, { text: 'my ad' })).rejects.toMatchObject(forbidden(/only the broadcaster, moderators and staff may pin; you are a viewer/));
  await expect(viewer.grantModerator(room, system.user('ma-viewer'))).rejects.toMatchObject(forbidden(/only the broadcaster and staff may grant or revoke moderators/));
  await expect(mod.pin(room, { text: 'not yet' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN });

  await host.grantModerator(room, modId);
  await within(1000, () => mod.pin(room, { text: 'rules: be kind' }));
  expect(await pinnedBy(room)).toBe(modId);
  await mod.unpin(room);

  await host.revokeModerator(room, modId);
  await within(1000, () => expect(mod.pin(room, { text: 'still mod?' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN }));
  expect(await pinnedBy(room)).toBeUndefined();
});

test('a moderator may not grant or revoke moderators; nobody in a room acts on the broadcaster or on staff', async () => {
  const { room, host } = await stream('mb');
  const [modA, modB, staffId] = [system.user('mb-mod-a'), system.user('mb-mod-b'), system.user('mb-staff')];
  await host.grantModerator(room, modA);
  await host.grantModerator(room, modB);
  expect((await system.api('POST', '/api/v1/staff/grant', { user_id: staffId })).body).toEqual({ changed: true });
  const a = await system.connect(modA, { gateway: 1 });
  await within(1000, () => a.pin(room, { text: 'a is a moderator' }));

  await expect(a.revokeModerator(room, modB)).rejects.toMatchObject(forbidden(/only the broadcaster and staff may grant or revoke moderators; you are a moderator/));
  await expect(a.grantModerator(room, system.user('mb-friend'))).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN });
  // The rule of who may act on whom (mayActOn) refuses the broadcaster and staff too.
  await expect(host.grantModerator(room, system.user('mb-host'))).rejects.toMatchObject(forbidden(/nobody may act on the broadcaster in their own room/));
  await within(1000, () => expect(host.revokeModerator(room, staffId)).rejects.toMatchObject(forbidden(/nobody in a room may act on staff/)));
  const staff = await system.connect(staffId, { gateway: 1 });
  await expect(staff.revokeModerator(room, system.user('mb-host'))).rejects.toMatchObject(forbidden(/may not act on the broadcaster/));
  // Staff may act on a moderator: B is one no more.
  await staff.revokeModerator(room, modB);
  const b = await system.connect(modB, { gateway: 0 });
  await within(1000, () => expect(b.pin(room, { text: 'b?' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN }));
  // A is still one; nothing the refusals touched changed.
  await a.pin(room, { text: 'a still is' });
  expect(await pinnedBy(room)).toBe(modA);
});

test("a channel moderator moderates every stream of that broadcaster, and no one else's", async () => {
  const { room: first, host } = await stream('mc');
  const modId = system.user('mc-mod');
  await host.grantModerator(first, modId, ModeratorScope.MODERATOR_SCOPE_CHANNEL);
  // A stream started after the grant.
  const second = await system.createLiveRoom(system.user('mc-host'));
  const other = await system.createLiveRoom(system.user('mc-other-host'));
  const mod = await system.connect(modId, { gateway: 1 });
  await within(1000, () => mod.pin(second, { text: 'channel rules' }));
  expect((await mod.join(second)).role).toBe(Role.ROLE_MODERATOR);
  await expect(mod.pin(other, { text: 'not mine' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN });
  expect((await mod.join(other)).role).toBe(Role.ROLE_VIEWER);
  // Revoking the stream scope leaves the channel grant; revoking the channel scope ends it.
  await host.revokeModerator(first, modId, ModeratorScope.MODERATOR_SCOPE_STREAM);
  await mod.pin(first, { text: 'still a channel moderator' });
  await host.revokeModerator(first, modId, ModeratorScope.MODERATOR_SCOPE_CHANNEL);
  await within(1000, () => expect(mod.pin(second, { text: 'gone' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN }));
});

test('staff granted by the app back end may pin in any room, until revoked', async () => {
  const staffId = system.user('md-staff');
  const { room } = await stream('md');
  const staff = await system.connect(staffId, { gateway: 1 });
  await expect(staff.pin(room, { text: 'staff note' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN });
  expect((await system.api('POST', '/api/v1/staff/grant', { user_id: staffId, actor_id: system.user('md-admin') })).body).toEqual({ changed: true });
  expect((await system.api('POST', '/api/v1/staff/grant', { user_id: staffId })).body).toEqual({ changed: false });
  await within(1000, () => staff.pin(room, { text: 'staff note' }));
  const elsewhere = await system.createLiveRoom(system.user('md-other-host'));
  await staff.pin(elsewhere, { text: 'staff everywhere' });
  expect(await pinnedBy(elsewhere)).toBe(staffId);
  expect((await system.api('POST', '/api/v1/staff/revoke', { user_id: staffId })).body).toEqual({ changed: true });
  await within(1000, () => expect(staff.pin(room, { text: 'no more' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN }));
});

test("the join reply says the joiner's own role, and a new one within a second of a grant", async () => {
  const { room, host } = await stream('me');
  const [modId, staffId, viewerId] = [system.user('me-mod'), system.user('me-staff'), system.user('me-viewer')];
  expect((await system.api('POST', '/api/v1/moderators/grant', { user_id: modId, stream_id: room.id })).status).toBe(200);
  await system.api('POST', '/api/v1/staff/grant', { user_id: staffId });
  expect((await host.join(room)).role).toBe(Role.ROLE_BROADCASTER);
  // Both message workers answer joins: each must know the grants.
  for (const gateway of [0, 1]) {
    const roles = await Promise.all([modId, staffId, viewerId].map(async (id) => (await (await system.connect(id, { gateway })).join(room)).role));
    expect(roles).toEqual([Role.ROLE_MODERATOR, Role.ROLE_STAFF, Role.ROLE_VIEWER]);
  }
  // A role the message workers hold in memory changes within a second of the grant: every join
  // after that says so, whichever worker answers it.
  const laterId = system.user('me-later');
  const later = await system.connect(laterId, { gateway: 1 });
  const roleOnJoin = async () => {
    const { role } = await later.join(room);
    await later.leave(room);
    return role;
  };
  for (let i = 0; i < 6; i++) expect(await roleOnJoin()).toBe(Role.ROLE_VIEWER);
  await host.grantModerator(room, laterId);
  await within(1000, async () => expect(await roleOnJoin()).toBe(Role.ROLE_MODERATOR));
  for (let i = 0; i < 6; i++) expect(await roleOnJoin()).toBe(Role.ROLE_MODERATOR);

  const dm = await system.createPrivateRoom(system.user('me-a'), system.user('me-b'));
  expect((await (await system.connect(system.user('me-a'))).join(dm)).role).toBe(Role.ROLE_MEMBER);
});

test('the service API grants and revokes moderators of a stream or a channel, and refuses bad requests', async () => {
  const { room } = await stream('mf');
  const modId = system.user('mf-mod');
  const grant = (body: unknown) => system.api('POST', '/api/v1/moderators/grant', body);
  expect(await grant({ user_id: modId, channel_id: system.user('mf-host') })).toMatchObject({ status: 200, body: { changed: true } });
  const mod = await system.connect(modId, { gateway: 1 });
  await within(1000, () => mod.pin(room, { text: 'granted by the back end' }));
  expect((await system.api('POST', '/api/v1/moderators/revoke', { user_id: modId, channel_id: system.user('mf-host') })).body).toEqual({ changed: true });

  expect((await grant({ user_id: modId })).status).toBe(400);
  expect((await grant({ user_id: modId, stream_id: room.id, channel_id: 'x' })).status).toBe(400);
  expect((await grant({ user_id: 'a\u0000b', stream_id: room.id })).status).toBe(400);
  expect((await grant({ user_id: modId, stream_id: 'no-such-stream' })).status).toBe(404);
  const asUser = await fetch(`${system.httpUrl()}/api/v1/moderators/grant`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await system.token(system.user('mf-host'))}` },
    body: JSON.stringify({ user_id: modId, stream_id: room.id }),
  });
  expect(asUser.status).toBe(401);
});

test('a viewer reports a message: the service API lists it as it was; bad reasons and unknown seqs are refused', async () => {
  const { room, host } = await stream('mg');
  await host.join(room);
  const [spammerId, viewerId] = [system.user('mg-spammer'), system.user('mg-viewer')];
  const spammer = await system.connect(spammerId, { gateway: 1 });
  const viewer = await system.connect(viewerId, { gateway: 1 });
  await spammer.join(room);
  const ack = await spammer.send(room, 'buy followers at example.com');
  const before = Date.now();
  await viewer.reportMessage(room, Number(ack.seq), 'spam\nand a link');
  // A repeat is one report.
  await viewer.reportMessage(room, Number(ack.seq), 'spam again');

  await expect(viewer.reportMessage(room, Number(ack.seq), 'bad\u0000reason')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
  await expect(viewer.reportMessage(room, Number(ack.seq), 'x'.repeat(501))).rejects.toMatchObject({
    code: ErrorCode.ERROR_CODE_BAD_REQUEST,
    message: expect.stringContaining('reason is longer than 500 characters'),
  });
  await expect(viewer.reportMessage(room, 999)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_NOT_FOUND });

  const listed = await system.api('GET', `/api/v1/reports?room_kind=live&room_id=${room.id}`);
  expect(listed.status).toBe(200);
  expect(listed.body.reports).toHaveLength(1);
  const [report] = listed.body.reports;
  // 64-bit numbers are strings, as in the proto3 JSON mapping.
  expect(report).toMatchObject({
    room: { kind: 'ROOM_KIND_LIVE', id: room.id },
    seq: String(ack.seq),
    senderId: spammerId,
    reporterId: viewerId,
    reason: 'spam\nand a link',
    message: { content: 'buy followers at example.com', senderId: spammerId, seq: String(ack.seq), kind: 'MESSAGE_KIND_TEXT' },
  });
  expect(Number(report.createdAtMs)).toBeGreaterThanOrEqual(before - 1000);
  expect(listed.body.nextCursor).toBe('');
  // Reports are the app back end's: a user token is refused, even the broadcaster's.
  expect((await get(`/api/v1/reports?room_kind=live&room_id=${room.id}`, system.user('mg-host'))).status).toBe(403);
  expect((await system.api('GET', '/api/v1/reports?room_kind=somewhere&room_id=x')).status).toBe(400);
});

test('members of a private room report there; others may not', async () => {
  const [a, b] = [system.user('mh-a'), system.user('mh-b')];
  const dm = await system.createPrivateRoom(a, b);
  const alice = await system.connect(a);
  const ack = await alice.send(dm, 'something nasty');
  const bob = await system.connect(b, { gateway: 1 });
  await bob.reportMessage(dm, Number(ack.seq), 'harassment');
  const stranger = await system.connect(system.user('mh-stranger'));
  await expect(stranger.reportMessage(dm, Number(ack.seq), 'nosy')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN });
  const listed = await system.api('GET', `/api/v1/reports?room_kind=private&room_id=${dm.id}`);
  expect(listed.body.reports.map((r: { reporterId: string; message: { content: string } }) => [r.reporterId, r.message.content])).toEqual([[b, 'something nasty']]);
});

test('pins and grants are in the moderation log, newest first, paged; the broadcaster and moderators read it, viewers may not', async () => {
  const { room, host } = await stream('mi');
  const [hostId, modId] = [system.user('mi-host'), system.user('mi-mod')];
  const viewer = await system.connect(system.user('mi-viewer'), { gateway: 1 });
  await viewer.join(room);
  const ack = await viewer.send(room, 'pin-worthy');
  await host.pin(room, { seq: Number(ack.seq) }, 60);
  await host.unpin(room);
  await host.grantModerator(room, modId, ModeratorScope.MODERATOR_SCOPE_CHANNEL);
  await host.revokeModerator(room, modId, ModeratorScope.MODERATOR_SCOPE_CHANNEL);
  await host.grantModerator(room, modId);
  // A refused action is not an action.
  await expect(viewer.pin(room, { text: 'nope' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN });

  const all = await system.api('GET', `/api/v1/live/${room.id}/moderation-log`);
  expect(all.status).toBe(200);
  expect(all.body.actions.map((a: { action: string }) => a.action)).toEqual(['grant_moderator', 'revoke_moderator', 'grant_moderator', 'unpin', 'pin']);
  const [grant, , channelGrant, , pin] = all.body.actions;
  expect(grant).toMatchObject({ actorId: hostId, targetUserId: modId, room: { kind: 'ROOM_KIND_LIVE', id: room.id }, channelId: null });
  expect(channelGrant).toMatchObject({ actorId: hostId, targetUserId: modId, channelId: hostId });
  expect(pin).toMatchObject({ actorId: hostId, targetUserId: system.user('mi-viewer'), messageSeq: String(ack.seq), reason: null });
  expect(Number(pin.expiresAtMs) - Number(pin.createdAtMs)).toBeGreaterThanOrEqual(59_000);

  // Paged: two at a time, the cursor continues where the page ended.
  const pages = [];
  let cursor = '';
  do {
    const page = await system.api('GET', `/api/v1/live/${room.id}/moderation-log?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    pages.push(page.body.actions.map((a: { id: string }) => a.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
  expect(pages.flat()).toEqual(all.body.actions.map((a: { id: string }) => a.id));

  // The broadcaster and (now) moderator read it with their own tokens; a viewer may not.
  expect((await get(`/api/v1/live/${room.id}/moderation-log`, hostId)).body.actions).toHaveLength(5);
  expect((await get(`/api/v1/live/${room.id}/moderation-log?limit=1`, modId)).status).toBe(200);
  const refused = await get(`/api/v1/live/${room.id}/moderation-log`, system.user('mi-viewer'));
  expect(refused).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
  expect((await system.api('GET', `/api/v1/live/${room.id}/moderation-log?cursor=abc`)).status).toBe(400);
  expect((await system.api('GET', '/api/v1/live/no-such-stream/moderation-log')).status).toBe(404);
});

test('a grant survives a restart of the moderation workers and the loss of the Redis cache', async () => {
  const { room, host } = await stream('mj');
  const modId = system.user('mj-mod');
  await host.grantModerator(room, modId);
  for (const worker of system.moderationWorkers.splice(0)) await worker.stop();
  const scopes = createVersionedCacheStore(await system.hotState(), SCOPE_PIECE);
  expect(await scopes.get(streamScope(room.id!))).not.toBeNull();
  await scopes.forget(streamScope(room.id!));
  await system.startModerationWorker();
  const mod = await system.connect(modId, { gateway: 1 });
  await mod.pin(room, { text: 'still a moderator' });
  expect(await pinnedBy(room)).toBe(modId);
});
