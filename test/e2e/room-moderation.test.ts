// Deleting messages, and timing out, banning and unbanning users, over the real wire with two
// gateways and two message workers: who may act on whom, what everyone in the room sees (a
// message_deleted or user_sanctioned push), what history, REST history, recovery and the
// conversation list return afterwards (tombstones), how a sanction refuses sends and joins on the
// other gateway within a second and lifts, and the app back end doing the same as staff.
import { ErrorCode, type LomiClient, type LomiError, type Room } from '@lomi/client';
import { Sanction } from '@lomi/protocol';
import { within } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 2, messageWorkers: 2 });
});
afterAll(() => system.stop());

const refusal = (code: ErrorCode, pattern?: RegExp) => ({ code, ...(pattern ? { message: expect.stringMatching(pattern) } : {}) });

/** A live stream whose host is on gateway 0, joined. */
async function stream(name: string): Promise<{ room: Room; host: LomiClient; hostId: string }> {
  const hostId = system.user(`${name}-host`);
  const room = await system.createLiveRoom(hostId);
  const host = await system.connect(hostId, { gateway: 0, join: room });
  return { room, host, hostId };
}

const del = (client: LomiClient, room: Room, seq: number, reason = '') => client.request({ deleteMessage: { room, seq, reason } });
const timeout = (client: LomiClient, room: Room, userId: string, durationS: number, clearMessages = false) =>
  client.request({ timeoutUser: { room, userId, durationS, clearMessages } });
const ban = (client: LomiClient, room: Room, userId: string, clearMessages = false) => client.request({ banUser: { room, userId, reason: 'spam', clearMessages } });
const unban = (client: LomiClient, room: Room, userId: string) => client.request({ unbanUser: { room, userId } });

async function restMessages(path: string) {
  return (await system.api('GET', path)).body.messages as { seq: string; content?: string; deletedBy?: string; gift?: unknown }[];
}

test('a moderator on gateway A deletes a message: viewers on B are told, and history, REST history and recovery return a tombstone', async () => {
  const { room, host } = await stream('del');
  const modId = system.user('del-mod');
  await host.grantModerator(room, modId);
  const mod = await system.connect(modId, { gateway: 0, join: room });
  const spammerId = system.user('del-spammer');
  const spammer = await system.connect(spammerId, { gateway: 1, join: room });
  const viewer = await system.connect(system.user('del-viewer'), { gateway: 1, join: room });
  const kept = await spammer.send(room, 'hello');
  const bad = await spammer.send(room, 'buy followers at example.com');
  const gift = await spammer.sendGift(room, 'rose', 2);
  const viewerSeq = (await viewer.send(room, 'hi all')).seq;

  await expect(del(viewer, room, bad.seq!)).rejects.toMatchObject(refusal(ErrorCode.ERROR_CODE_FORBIDDEN, /only the broadcaster, moderators and staff may delete/));
  await within(1000, () => del(mod, room, bad.seq!, 'spam link'));
  const pushed = await system.pushes(viewer).waitFor('messageDeleted', (d) => d.seqs!.map(Number).includes(bad.seq!));
  expect(pushed).toMatchObject({ deletedBy: modId });
  expect(Number(pushed.deletedAtMs)).toBeGreaterThan(0);
  await del(host, room, gift.seq!);
  // Deleting it again changes nothing and is not an error.
  await del(mod, room, bad.seq!);

  const history = (await viewer.history(room)).messages!;
  const bySeq = new Map(history.map((m) => [Number(m.seq), m]));
  expect(bySeq.get(kept.seq!)).toMatchObject({ content: 'hello' });
  expect(bySeq.get(kept.seq!)!.deletedBy ?? '').toBe('');
  expect(bySeq.get(bad.seq!)).toMatchObject({ content: '', deletedBy: modId, senderId: spammerId });
  expect(bySeq.get(gift.seq!)!.gift ?? null).toBeNull();
  expect(bySeq.get(gift.seq!)!.deletedBy).toBe(system.user('del-host'));

  const rest = await restMessages(`/api/v1/live/${room.id}/messages`);
  const restBad = rest.find((m) => Number(m.seq) === bad.seq)!;
  expect(restBad.deletedBy).toBe(modId);
  expect(restBad.content ?? '').toBe('');

  // A client that reconnects after kept.seq recovers the tombstone, not the text.
  const late = await system.connect(system.user('del-late'), { gateway: 0 });
  const joined = await late.join(room, { sinceSeq: kept.seq! });
  expect(joined.recovered).toBe(true);
  const recovered = joined.messages!.find((m) => Number(m.seq) === bad.seq)!;
  expect(recovered).toMatchObject({ deletedBy: modId });
  expect(recovered.content ?? '').toBe('');
  expect(joined.messages!.find((m) => Number(m.seq) === viewerSeq)).toMatchObject({ content: 'hi all' });

  // Postgres keeps who deleted it and when; the moderation log has the action with its reason.
  expect(await system.query('select deleted_by from message_deletions where room_id = $1 and seq = $2', [room.id, bad.seq])).toEqual([{ deleted_by: modId }]);
  const log = (await system.api('GET', `/api/v1/live/${room.id}/moderation-log`)).body.actions as { action: string; reason?: string; messageSeq?: string }[];
  expect(log.find((a) => a.action === 'delete_message' && Number(a.messageSeq) === bad.seq)).toMatchObject({ reason: 'spam link' });
});

test('who may act on whom: viewers nothing, a moderator not on the broadcaster or another moderator, nobody bans the broadcaster', async () => {
  const { room, host, hostId } = await stream('who');
  const [modA, modB] = [system.user('who-mod-a'), system.user('who-mod-b')];
  await host.grantModerator(room, modA);
  await host.grantModerator(room, modB);
  const a = await system.connect(modA, { gateway: 1, join: room });
  const viewerId = system.user('who-viewer');
  const viewer = await system.connect(viewerId, { gateway: 1, join: room });
  const hostSeq = (await host.send(room, 'welcome')).seq;
  const modBSeq = (await (await system.connect(modB, { gateway: 0, join: room })).send(room, 'mod b here')).seq;

  const forbidden = refusal(ErrorCode.ERROR_CODE_FORBIDDEN);
  await expect(timeout(viewer, room, modA, 60)).rejects.toMatchObject(forbidden);
  await expect(ban(viewer, room, system.user('who-other'))).rejects.toMatchObject(forbidden);
  await within(1000, () => expect(ban(a, room, hostId)).rejects.toMatchObject(refusal(ErrorCode.ERROR_CODE_FORBIDDEN, /nobody may act on the broadcaster/)));
  await expect(timeout(a, room, modB, 60)).rejects.toMatchObject(refusal(ErrorCode.ERROR_CODE_FORBIDDEN, /only the broadcaster and staff may act on a moderator/));
  await expect(del(a, room, hostSeq!)).rejects.toMatchObject(forbidden);
  await expect(del(a, room, modBSeq!)).rejects.toMatchObject(forbidden);
  await expect(ban(host, room, hostId)).rejects.toMatchObject(forbidden);
  // Bad values are refused and change nothing.
  await expect(timeout(a, room, viewerId, 0)).rejects.toMatchObject(refusal(ErrorCode.ERROR_CODE_BAD_REQUEST, /duration_s must be 1–1209600/));
  await expect(timeout(a, room, viewerId, 14 * 86_400 + 1)).rejects.toMatchObject(refusal(ErrorCode.ERROR_CODE_BAD_REQUEST));
  await expect(del(a, room, 999_999)).rejects.toMatchObject(refusal(ErrorCode.ERROR_CODE_NOT_FOUND));
  await viewer.send(room, 'still here');
  // The broadcaster may act on a moderator.
  await host.request({ timeoutUser: { room, userId: modB, durationS: 60 } });
});

test('a ban on gateway A takes the user out of the room on gateway B within a second, refuses their sends and joins, and an unban lets them back', async () => {
  const { room, host } = await stream('ban');
  const trollId = system.user('ban-troll');
  const troll = await system.connect(trollId, { gateway: 1, join: room });
  const watcher = await system.connect(system.user('ban-watcher'), { gateway: 1, join: room });
  const first = await troll.send(room, 'first');
  const second = await troll.send(room, 'second');
  const other = await watcher.send(room, 'unrelated');

  const mark = system.pushes(troll).mark();
  await ban(host, room, trollId, true);
  const told = await system.pushes(troll).waitFor('userSanctioned', (s) => s.userId === trollId, { after: mark, timeoutMs: 1000 });
  expect(told).toMatchObject({ sanction: Sanction.SANCTION_BAN, reason: 'spam', moderatorId: system.user('ban-host') });
  await system.pushes(watcher).waitFor('userSanctioned', (s) => s.userId === trollId && s.sanction === Sanction.SANCTION_BAN);
  // Cleared: both of the troll's messages are tombstones now; the watcher's is not.
  const cleared = await system.pushes(watcher).waitFor('messageDeleted', (d) => d.seqs!.map(Number).includes(first.seq!));
  expect(cleared.seqs!.map(Number).sort()).toEqual([first.seq, second.seq]);
  const history = (await watcher.history(room)).messages!;
  expect(history.filter((m) => m.deletedBy).map((m) => Number(m.seq))).toEqual([first.seq, second.seq]);
  expect(history.find((m) => Number(m.seq) === other.seq)).toMatchObject({ content: 'unrelated' });

  // Out of the room on its gateway: no more messages, sends refused BANNED, a join refused BANNED.
  const seen: string[] = [];
  troll.on('message', (m) => m.room?.id === room.id && seen.push(m.content ?? ''));
  await within(1000, () => expect(troll.send(room, 'let me back')).rejects.toMatchObject(refusal(ErrorCode.ERROR_CODE_BANNED)));
  await expect(troll.join(room)).rejects.toMatchObject(refusal(ErrorCode.ERROR_CODE_BANNED));
  const other2 = await system.connect(trollId, { gateway: 0 });
  await expect(other2.join(room)).rejects.toMatchObject(refusal(ErrorCode.ERROR_CODE_BANNED));
  // Their connection is alive for their other rooms.
  const elsewhere = await system.createLiveRoom(system.user('ban-host2'));
  await troll.join(elsewhere);
  await troll.send(elsewhere, 'fine here');
  const whileOut = await watcher.send(room, 'while the troll is out');

  await unban(host, room, trollId);
  const lifted = await system.pushes(watcher).waitFor('userSanctioned', (s) => s.userId === trollId && s.sanction === Sanction.SANCTION_NONE);
  expect(lifted).toBeTruthy();
  await within(1000, () => troll.join(room));
  const back = new Promise<void>((resolve) => troll.on('message', (m) => m.content === 'sorry' && resolve()));
  await troll.send(room, 'sorry');
  await back;
  // Nothing of the room reached the troll live while banned (a join without since_seq recovers nothing).
  expect(seen).not.toContain('while the troll is out');
  expect((await troll.history(room, { afterSeq: whileOut.seq! - 1, limit: 1 })).messages![0]).toMatchObject({ content: 'while the troll is out' });

  const log = (await system.api('GET', `/api/v1/live/${room.id}/moderation-log`)).body.actions.map((a: { action: string }) => a.action);
  expect(log.slice(0, 2)).toEqual(['unban', 'ban']);
});

test('a timeout refuses sends with the time left on the other gateway, lets the user read, and lifts by itself', async () => {
  const { room, host } = await stream('to');
  const userId = system.user('to-user');
  const user = await system.connect(userId, { gateway: 1, join: room });
  await user.send(room, 'before');
  await timeout(host, room, userId, 2);
  const refused = await within(1000, () =>
    user.send(room, 'during').then(
      () => Promise.reject(new Error('sent while timed out')),
      (err: LomiError) => (err.code === ErrorCode.ERROR_CODE_TIMED_OUT ? err : Promise.reject(err)),
    ),
  );
  expect(refused.retryAfterMs).toBeGreaterThan(0);
  expect(refused.retryAfterMs).toBeLessThanOrEqual(2000);
  // Still in the room: the host's message reaches them.
  const received = new Promise<string>((resolve) => user.on('message', (m) => m.content === 'still listening?' && resolve(m.content)));
  await host.send(room, 'still listening?');
  await expect(received).resolves.toBe('still listening?');
  await within(4000, () => user.send(room, 'after'));
});

test("private rooms: a sender deletes their own message, not the other member's; the conversation list shows the tombstone", async () => {
  const [aliceId, bobId] = [system.user('pd-alice'), system.user('pd-bob')];
  const room = await system.createPrivateRoom(aliceId, bobId);
  const alice = await system.connect(aliceId, { gateway: 0 });
  const bob = await system.connect(bobId, { gateway: 1, join: room });
  const bobs = await bob.send(room, 'hi alice');
  const oops = await alice.send(room, 'wrong chat, sorry');
  await expect(del(alice, room, bobs.seq!)).rejects.toMatchObject(refusal(ErrorCode.ERROR_CODE_FORBIDDEN, /only the sender/));
  await del(alice, room, oops.seq!);
  await system.pushes(bob).waitFor('messageDeleted', (d) => d.seqs!.map(Number).includes(oops.seq!));
  const list = await bob.listConversations();
  const summary = list.conversations!.find((c) => c.room!.id === room.id)!;
  expect(summary.lastMessage).toMatchObject({ deletedBy: aliceId, content: '' });
  const rest = await restMessages(`/api/v1/conversations/${room.id}/messages`);
  expect(rest.find((m) => Number(m.seq) === oops.seq)!.deletedBy).toBe(aliceId);
});

test('the app back end deletes, times out, bans and unbans through the service API, as staff', async () => {
  const { room } = await stream('svc');
  const userId = system.user('svc-user');
  const user = await system.connect(userId, { gateway: 1, join: room });
  const sent = await user.send(room, 'reported content');

  expect((await system.api('POST', `/api/v1/live/${room.id}/messages/${sent.seq}/delete`, { reason: 'reported', actorId: 'ops-1' })).status).toBe(200);
  await system.pushes(user).waitFor('messageDeleted', (d) => d.seqs!.map(Number).includes(sent.seq!) && d.deletedBy === 'ops-1');
  expect((await system.api('POST', `/api/v1/live/${room.id}/timeout`, { userId, durationS: 0 })).status).toBe(400);
  expect((await system.api('POST', `/api/v1/live/nope/ban`, { userId })).status).toBe(404);
  expect((await system.api('POST', `/api/v1/live/${room.id}/ban`, { userId, reason: 'fraud' })).status).toBe(200);
  await within(1000, () => expect(user.send(room, 'x')).rejects.toMatchObject(refusal(ErrorCode.ERROR_CODE_BANNED)));
  expect((await system.api('POST', `/api/v1/live/${room.id}/unban`, { userId })).status).toBe(200);
  await within(1000, () => user.join(room));
  expect((await system.api('POST', `/api/v1/live/${room.id}/timeout`, { userId, durationS: 60, clearMessages: true })).status).toBe(200);
  await within(1000, () => expect(user.send(room, 'y')).rejects.toMatchObject(refusal(ErrorCode.ERROR_CODE_TIMED_OUT)));
  const log = (await system.api('GET', `/api/v1/live/${room.id}/moderation-log`)).body.actions as { action: string; actorId?: string }[];
  expect(log.map((a) => a.action).slice(0, 4)).toEqual(['timeout', 'unban', 'ban', 'delete_message']);
  expect(log[3]!.actorId).toBe('ops-1');
});
