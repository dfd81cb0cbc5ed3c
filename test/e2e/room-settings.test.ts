// Live room settings (slow mode, word filter on/off, the room's own block list): set by the
// broadcaster, moderators and staff over the WebSocket or by the app back end, refused to viewers
// and for bad values with nothing changed; pushed to the room on every gateway, in a joiner's
// JoinReply, in the moderation log, and still there after the workers restart on an empty cache.
import { ErrorCode, Role, type LomiClient, type Room } from '@lomi/client';
import { FilterAction, type lomi } from '@lomi/protocol';
import { within } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import { createVersionedCacheStore, ROOM_SETTINGS_PIECE } from '@lomi/moderation';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 2, messageWorkers: 2 });
});
afterAll(() => system.stop());

async function stream(name: string): Promise<{ room: Room; host: LomiClient }> {
  const room = await system.createLiveRoom(system.user(`${name}-host`));
  return { room, host: await system.connect(system.user(`${name}-host`), { gateway: 0 }) };
}

async function setSettings(client: LomiClient, room: Room, settings: Omit<lomi.chat.v1.ISetRoomSettings, 'room'>) {
  return (await client.request({ setRoomSettings: { room, ...settings } })).roomSettings!;
}

const settingsOf = (room: Room) => system.api('POST', `/api/v1/live/${room.id}/settings`, {});

test('the broadcaster, a moderator and staff change the settings; a viewer is refused and nothing changes', async () => {
  const { room, host } = await stream('sa');
  const [modId, staffId] = [system.user('sa-mod'), system.user('sa-staff')];
  await host.grantModerator(room, modId);
  await system.api('POST', '/api/v1/staff/grant', { user_id: staffId });
  const viewer = await system.connect(system.user('sa-viewer'), { gateway: 1 });

  // A room nobody configured has the defaults.
  const joined = await viewer.join(room);
  expect(joined.settings).toMatchObject({ slowModeS: 0, wordFilter: true, blockedTermsCount: 0, blockedTerms: [] });
  expect(joined.role).toBe(Role.ROLE_VIEWER);

  for (const settings of [{ slowModeS: 5 }, { wordFilter: false }, { blockedTerms: { terms: ['spam'] } }, {}]) {
    await expect(setSettings(viewer, room, settings)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_FORBIDDEN,
      message: expect.stringContaining('only the broadcaster, moderators and staff may change the room settings; you are a viewer'),
    });
  }
  expect((await settingsOf(room)).body).toMatchObject({ slowModeS: 0, wordFilter: true, blockedTerms: [], version: '0' });

  const byHost = await setSettings(host, room, { slowModeS: 10 });
  expect(byHost.settings).toMatchObject({ slowModeS: 10, wordFilter: true });
  const mod = await system.connect(modId, { gateway: 1 });
  const byMod = await within(1000, () => setSettings(mod, room, { blockedTerms: { terms: ['spam', 'scam*'] } }));
  // Fields left unset keep their value; the version only grows.
  expect(byMod.settings).toMatchObject({ slowModeS: 10, blockedTerms: ['spam', 'scam*'], blockedTermsCount: 2 });
  expect(Number(byMod.settings!.version)).toBeGreaterThan(Number(byHost.settings!.version));
  const staff = await system.connect(staffId, { gateway: 0 });
  const byStaff = await within(1000, () => setSettings(staff, room, { wordFilter: false, blockedTermsAction: FilterAction.FILTER_ACTION_MASK }));
  expect(byStaff.settings).toMatchObject({ slowModeS: 10, wordFilter: false, blockedTermsAction: FilterAction.FILTER_ACTION_MASK });
  // With no field set, the reply is the current settings: how a moderator reads the list.
  expect((await setSettings(mod, room, {})).settings).toMatchObject({ blockedTerms: ['spam', 'scam*'], version: byStaff.settings!.version });

  // Every change is in the moderation log, by whom.
  const log = await system.api('GET', `/api/v1/live/${room.id}/moderation-log`);
  const changes = log.body.actions.filter((a: { action: string }) => a.action === 'room_settings');
  expect(changes.map((a: { actorId: string }) => a.actorId)).toEqual([staffId, modId, system.user('sa-host')]);
  expect(changes[0].reason).toBe('slow mode 10 s; word filter off; room list 2 terms (mask)');
});

test('a change on gateway A is pushed to the room on gateway B (without the terms) and seen by the next joiner', async () => {
  const { room, host } = await stream('sb');
  await host.join(room);
  const watcher = await system.connect(system.user('sb-watcher'), { gateway: 1 });
  await watcher.join(room);
  const pushes = system.pushes(watcher);
  const before = pushes.mark();

  const reply = await setSettings(host, room, { slowModeS: 30, blockedTerms: { terms: ['secret-word'] } });
  expect(reply.settings!.blockedTerms).toEqual(['secret-word']);
  const pushed = await pushes.waitFor('roomSettings', (u) => u.settings?.slowModeS === 30, { after: before, timeoutMs: 1000 });
  expect(pushed.room).toMatchObject({ id: room.id });
  expect(pushed.settings).toMatchObject({ slowModeS: 30, wordFilter: true, blockedTermsCount: 1, blockedTerms: [] });

  // Both message workers answer joins: each joiner, on either gateway, sees the change.
  for (const gateway of [0, 1, 0, 1]) {
    const joiner = await system.connect(system.user(`sb-joiner-${gateway}`), { gateway });
    const { settings } = await joiner.join(room);
    expect(settings).toMatchObject({ slowModeS: 30, blockedTermsCount: 1, blockedTerms: [], version: reply.settings!.version });
    await joiner.close();
  }
  // A repeat of the same values changes nothing: no push, no log entry, the same version.
  const again = await setSettings(host, room, { slowModeS: 30 });
  expect(again.settings!.version).toEqual(reply.settings!.version);
  // Pushes of one room come in order: the next change's push is the second.
  await setSettings(host, room, { slowModeS: 31 });
  await pushes.waitFor('roomSettings', (u) => u.settings?.slowModeS === 31, { after: before });
  expect(pushes.of('roomSettings').map((u) => u.settings?.slowModeS)).toEqual([30, 31]);
});

test('bad values are refused, naming the field, and change nothing', async () => {
  const { room, host } = await stream('sc');
  const good = await setSettings(host, room, { slowModeS: 3, blockedTerms: { terms: ['keep'] } });
  const refusals: [Omit<lomi.chat.v1.ISetRoomSettings, 'room'>, RegExp][] = [
    [{ slowModeS: 121 }, /slow_mode_s must be 0 \(off\) to 120 seconds/],
    [{ slowModeS: 60, blockedTerms: { terms: ['ok', 'b*d'] } }, /blocked_terms: term 1 "b\*d" has a '\*' inside/],
    [{ blockedTerms: { terms: ['fine', '  '] } }, /blocked_terms: term 1 .* has no letters or digits/],
    [{ blockedTerms: { terms: ['x'.repeat(65)] } }, /longer than 64 characters/],
    [{ blockedTerms: { terms: ['a\u0000b'] } }, /blocked_terms\[0\]/],
    [{ blockedTerms: { terms: Array.from({ length: 1001 }, (_, i) => `term${i}`) } }, /blocked_terms holds at most 1000 terms, got 1001/],
    [{ blockedTermsAction: 7 as FilterAction }, /blocked_terms_action must be REFUSE or MASK/],
  ];
  for (const [settings, message] of refusals) {
    await expect(setSettings(host, room, settings)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST, message: expect.stringMatching(message) });
  }
  expect((await settingsOf(room)).body).toMatchObject({ slowModeS: 3, blockedTerms: ['keep'], version: String(good.settings!.version) });

  // The service API: the same rules, and wrong JSON types, an unknown or ended stream.
  const post = (id: string, body: unknown) => system.api('POST', `/api/v1/live/${id}/settings`, body);
  expect(await post(room.id!, { slow_mode_s: 500 })).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
  expect((await post(room.id!, { slow_mode_s: '10' })).status).toBe(400);
  expect((await post(room.id!, { slow_mode_s: -1 })).status).toBe(400);
  expect((await post(room.id!, { word_filter: 'no' })).status).toBe(400);
  expect((await post(room.id!, { blocked_terms: 'spam' })).status).toBe(400);
  expect((await post(room.id!, { blocked_terms: [1, 2] })).status).toBe(400);
  expect((await post(room.id!, { blocked_terms_action: 'FILTER_ACTION_DELETE' })).status).toBe(400);
  expect((await post('no-such-stream', { slow_mode_s: 5 })).status).toBe(404);
  expect((await settingsOf(room)).body).toMatchObject({ slowModeS: 3, blockedTerms: ['keep'], version: String(good.settings!.version) });
  const asUser = await fetch(`${system.httpUrl()}/api/v1/live/${room.id}/settings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await system.token(system.user('sc-host'))}` },
    body: JSON.stringify({ slow_mode_s: 5 }),
  });
  expect(asUser.status).toBe(401);

  // The app back end sets them (names in either JSON form), logged with the actor it names.
  const byApp = await post(room.id!, { slowModeS: 7, word_filter: false, blocked_terms_action: 'FILTER_ACTION_MASK', actor_id: system.user('sc-admin') });
  expect(byApp).toMatchObject({ status: 200, body: { slowModeS: 7, wordFilter: false, blockedTermsAction: 'FILTER_ACTION_MASK', blockedTerms: ['keep'] } });
  const log = await system.api('GET', `/api/v1/live/${room.id}/moderation-log`);
  expect(log.body.actions[0]).toMatchObject({ action: 'room_settings', actorId: system.user('sc-admin') });

  await system.api('POST', `/api/v1/live/${room.id}/end`);
  expect((await post(room.id!, { slow_mode_s: 5 })).status).toBe(409);
  await expect(setSettings(host, room, { slowModeS: 5 })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_ROOM_CLOSED });
});

test('settings survive restarts: message workers started on an empty cache read them from Postgres', async () => {
  const { room, host } = await stream('sd');
  await setSettings(host, room, { slowModeS: 45, wordFilter: false });
  await createVersionedCacheStore(await system.hotState(), ROOM_SETTINGS_PIECE).forget(room);
  // New message workers, then the old ones (and their memory) gone.
  const old = [...system.workers];
  await system.startMessageWorker();
  await system.startMessageWorker();
  for (const worker of old) await worker.stop();
  const joiner = await system.connect(system.user('sd-joiner'), { gateway: 1 });
  expect((await joiner.join(room)).settings).toMatchObject({ slowModeS: 45, wordFilter: false });
});
