// What an app does with the SDK, over the real wire, in both encodings: private chat (text,
// throttled typing, receipts, history pages, deletions, the conversation list, blocks), live rooms (gifts,
// viewers, pins, settings with their block list, moderators, reports, deletions, timeouts and
// bans, batches, the stream's end),
// each push as its typed event and each refusal as its error class, and a send that cannot be
// delivered in time rejecting with SendTimeoutError instead of hanging.
import WebSocket from 'ws';
import {
  BannedError,
  BlockedTermError,
  Encoding,
  FilterAction,
  ForbiddenError,
  LomiClient,
  MessageKind,
  NotFoundError,
  RequestTimeoutError,
  RoomClosedError,
  Sanction,
  SendTimeoutError,
  TimedOutError,
  type ClientEvents,
  type Room,
} from '@lomi/client';
import { MessageLog, startTcpProxy, waitFor, type TcpProxy } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  // A batch window long enough that a burst of sends reaches a viewer in few frames.
  system = await startSystem({ env: { BATCH_FRAMES_PER_S: '100', BATCH_WINDOW_MS: '50' } });
});
afterAll(() => system.stop());

/** Retries `attempt` (a sanction reaches every gateway within a second) until it fails with `Class`. */
async function waitForRefusal<E extends Error>(attempt: () => Promise<unknown>, Class: new (...args: never[]) => E): Promise<E> {
  let error: unknown;
  await waitFor(async () => {
    error = await attempt().then(
      () => undefined,
      (err: unknown) => err,
    );
    return error instanceof Class;
  }, `a ${Class.name}`);
  return error as E;
}

/** Retries `attempt` until it succeeds (a lifted sanction reaches every gateway within a second). */
async function waitForAck<T>(attempt: () => Promise<T>): Promise<T> {
  let result: T | undefined;
  await waitFor(async () => {
    try {
      result = await attempt();
      return true;
    } catch {
      return false;
    }
  }, 'success');
  return result!;
}

type Args<K extends keyof ClientEvents> = Parameters<ClientEvents[K]>;

/** The first `event` of `client` from now on that `matches`: call it before the action that causes it. */
function next<K extends keyof ClientEvents>(client: LomiClient, event: K, matches: (...args: Args<K>) => boolean = () => true): Promise<Args<K>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching ${event} event within 10 s`));
    }, 10_000);
    const off = client.on(event, ((...args: Args<K>) => {
      if (!matches(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    }) as ClientEvents[K]);
  });
}

/** Every `event` of `client` from now on. */
function record<K extends keyof ClientEvents>(client: LomiClient, event: K): Args<K>[] {
  const seen: Args<K>[] = [];
  client.on(event, ((...args: Args<K>) => void seen.push(args)) as ClientEvents[K]);
  return seen;
}

describe.each([Encoding.PROTO, Encoding.JSON])('in the %s encoding', (encoding) => {
  const user = (name: string) => system.user(`${name}-${encoding === Encoding.PROTO ? 'p' : 'j'}`);
  const connect = (userId: string, join?: Room) => system.connect(userId, { encoding, join });

  test('private chat: text, throttled typing that a send ends, receipts, history pages, deleting own messages', async () => {
    const [a, b] = [user('pa'), user('pb')];
    const room = await system.createPrivateRoom(a, b);
    const alice = await connect(a, room);
    const bob = await connect(b, room);
    const bobLog = new MessageLog(bob);
    const typing = record(bob, 'typing');

    // Keystrokes: one `typing` goes out, however many calls.
    const started = next(bob, 'typing', (e) => e.typing === true);
    await Promise.all([1, 2, 3, 4, 5].map(() => alice.typing(room, true)));
    expect((await started)[0]).toMatchObject({ userId: a, typing: true, room: { id: room.id } });
    // The send says "stopped" on its own.
    const stopped = next(bob, 'typing', (e) => e.typing === false);
    const ack = await alice.send(room, 'hi bob');
    await stopped;
    expect(typing.map(([e]) => e.typing)).toEqual([true, false]);
    const [message] = await bobLog.waitFor(room, 1);
    expect(message).toMatchObject({ seq: ack.seq, senderId: a, kind: MessageKind.MESSAGE_KIND_TEXT, content: 'hi bob' });
    expect(Number(message!.createdAtMs)).toBeGreaterThan(0);

    // Delivered, then read: Alice sees each receipt as an event.
    const delivered = next(alice, 'receipt', (e) => Number(e.deliveredSeq) === 1);
    await bob.markDelivered(room, 1);
    expect((await delivered)[0]).toMatchObject({ userId: b, room: { id: room.id } });
    const read = next(alice, 'receipt', (e) => Number(e.readSeq) === 1);
    await bob.markRead(room, 1);
    expect(Number((await read)[0].deliveredSeq)).toBe(1);

    // History pages: from the start forward, and back from a seq.
    for (const text of ['two', 'three', 'four', 'five']) await alice.send(room, text);
    const first = await bob.history(room, { limit: 2 });
    expect(first.messages!.map((m) => m.content)).toEqual(['hi bob', 'two']);
    expect(first.hasMore).toBe(true);
    const after = await bob.history(room, { afterSeq: 2, limit: 10 });
    expect(after.messages!.map((m) => Number(m.seq))).toEqual([3, 4, 5]);
    expect(after.hasMore).toBe(false);
    const back = await bob.history(room, { beforeSeq: 5, limit: 2 });
    expect(back.messages!.map((m) => m.content)).toEqual(['three', 'four']);

    // A sender deletes their own message, and only their own.
    const deleted = next(bob, 'messageDeleted');
    await alice.deleteMessage(room, 5);
    expect((await deleted)[0]).toMatchObject({ deletedBy: a, room: { id: room.id } });
    const reply = await bob.send(room, 'oh?');
    await expect(alice.deleteMessage(room, Number(reply.seq))).rejects.toBeInstanceOf(ForbiddenError);
  });

  test('the conversation list pages newest first, with last message and unread count', async () => {
    const [me, old, recent] = [user('cl-me'), user('cl-old'), user('cl-recent')];
    const oldRoom = await system.createPrivateRoom(me, old);
    const recentRoom = await system.createPrivateRoom(me, recent);
    const oldFriend = await connect(old, oldRoom);
    const recentFriend = await connect(recent, recentRoom);
    const client = await connect(me);
    // The order comes from Postgres, which the persister updates a moment after each send: each
    // send is awaited there before the next, so the list is in a state the test knows.
    const top = async () => (await client.listConversations({ limit: 1 })).conversations?.[0]?.otherUserId;
    await oldFriend.send(oldRoom, 'a while ago');
    await waitFor(async () => (await top()) === old, 'the old conversation on top');
    await recentFriend.send(recentRoom, 'just now');
    await waitFor(async () => (await top()) === recent, 'the recent conversation on top');

    const page1 = await client.listConversations({ limit: 1 });
    expect(page1.conversations!.map((c) => [c.otherUserId, c.lastMessage?.content, Number(c.readState?.unreadCount)])).toEqual([[recent, 'just now', 1]]);
    expect(page1.nextCursor).toBeTruthy();
    const page2 = await client.listConversations({ limit: 1, cursor: page1.nextCursor! });
    expect(page2.conversations!.map((c) => [c.otherUserId, c.lastMessage?.content])).toEqual([[old, 'a while ago']]);
    expect(page2.nextCursor ?? '').toBe('');
  });

  test('a block refuses the blocked member with ForbiddenError and hides the conversation from the blocker, until unblocked', async () => {
    const [me, pest] = [user('bl-me'), user('bl-pest')];
    const room = await system.createPrivateRoom(me, pest);
    const client = await connect(me);
    const other = await connect(pest);
    await other.send(room, 'hello?');
    const listed = async () => (await client.listConversations()).conversations!.map((c) => c.otherUserId);
    expect(await listed()).toEqual([pest]);

    await client.blockUser(pest);
    await expect(other.send(room, 'are you there?')).rejects.toBeInstanceOf(ForbiddenError);
    expect(await listed()).toEqual([]);
    await client.unblockUser(pest);
    await other.send(room, 'back again');
    expect(await listed()).toEqual([pest]);
  });

  test('live room: gifts, viewers, pins, a moderator granted and revoked, reports', async () => {
    const [host, mod, fan] = [user('lv-host'), user('lv-mod'), user('lv-fan')];
    const room = await system.createLiveRoom(host);
    const broadcaster = await connect(host, room);
    const moderator = await connect(mod, room);
    const moreViewers = next(broadcaster, 'viewers', (e) => Number(e.count) === 3);
    const viewer = await connect(fan, room);
    expect((await moreViewers)[0].room).toMatchObject({ id: room.id });
    const viewerLog = new MessageLog(viewer);

    const gift = await viewer.sendGift(room, 'rose', 3);
    const [shown] = await viewerLog.waitFor(room, 1);
    expect(shown).toMatchObject({ seq: gift.seq, senderId: fan, kind: MessageKind.MESSAGE_KIND_GIFT, gift: { giftId: 'rose', count: 3 } });
    expect(Number(shown!.gift!.value)).toBe(3);

    // A viewer may not pin; a moderator the broadcaster granted may, until it is revoked.
    await expect(moderator.pin(room, { seq: Number(gift.seq) })).rejects.toBeInstanceOf(ForbiddenError);
    await broadcaster.grantModerator(room, mod);
    const pinned = next(viewer, 'pin', (e) => Boolean(e.pin));
    await moderator.pin(room, { seq: Number(gift.seq) }, 60);
    const [update] = await pinned;
    expect(update.pin).toMatchObject({ pinnedBy: mod, message: { seq: gift.seq, senderId: fan } });
    expect(Number(update.pin!.expiresAtMs)).toBeGreaterThan(Number(update.pin!.pinnedAtMs));
    const unpinned = next(viewer, 'pin', (e) => !e.pin);
    await moderator.unpin(room);
    expect((await unpinned)[0].room).toMatchObject({ id: room.id });
    const textPinned = next(viewer, 'pin', (e) => e.pin?.message?.content === 'welcome!');
    await broadcaster.pin(room, { text: 'welcome!' });
    expect(Number((await textPinned)[0].pin!.message!.seq)).toBe(0);
    await broadcaster.revokeModerator(room, mod);
    await expect(moderator.unpin(room)).rejects.toBeInstanceOf(ForbiddenError);

    await viewer.reportMessage(room, Number(gift.seq), 'spam');
    await expect(viewer.reportMessage(room, 999)).rejects.toBeInstanceOf(NotFoundError);
    const reports = await system.api('GET', `/api/v1/reports?room_kind=live&room_id=${room.id}`);
    expect(JSON.stringify(reports.body)).toContain('spam');
  });

  test('live room settings: a change is a roomSettings event for viewers, and the block list refuses with BlockedTermError', async () => {
    const [host, fan] = [user('st-host'), user('st-fan')];
    const room = await system.createLiveRoom(host);
    const broadcaster = await connect(host, room);
    const viewer = await connect(fan, room);
    await expect(viewer.setRoomSettings(room, { wordFilter: false })).rejects.toBeInstanceOf(ForbiddenError);

    const changed = next(viewer, 'roomSettings');
    const settings = await broadcaster.setRoomSettings(room, { blockedTerms: ['spoiler'], blockedTermsAction: FilterAction.FILTER_ACTION_REFUSE });
    expect(settings).toMatchObject({ blockedTerms: ['spoiler'], blockedTermsCount: 1, blockedTermsAction: FilterAction.FILTER_ACTION_REFUSE, wordFilter: true });
    const [pushed] = await changed;
    expect(pushed).toMatchObject({ room: { id: room.id }, settings: { blockedTermsCount: 1, version: settings.version } });
    // Viewers do not learn the list itself.
    expect(pushed.settings!.blockedTerms ?? []).toEqual([]);
    // With no change, the current settings.
    expect(await broadcaster.setRoomSettings(room)).toMatchObject({ blockedTerms: ['spoiler'], version: settings.version });

    await expect(viewer.send(room, 'big spoiler ahead')).rejects.toBeInstanceOf(BlockedTermError);
    expect(Number((await viewer.send(room, 'nothing to see')).seq)).toBe(1);
  });

  test('moderation: a deletion is a messageDeleted event and a tombstone in history; a timeout and a ban are userSanctioned events and refusals of their class', async () => {
    const [host, mod, fan, troll] = [user('md-host'), user('md-mod'), user('md-fan'), user('md-troll')];
    const room = await system.createLiveRoom(host);
    const broadcaster = await connect(host, room);
    await broadcaster.grantModerator(room, mod);
    const moderator = await connect(mod, room);
    const viewer = await connect(fan, room);
    const trollClient = await connect(troll, room);

    // A moderator deletes a viewer's message, not the broadcaster's.
    const rude = await trollClient.send(room, 'something rude');
    const hostMessage = await broadcaster.send(room, 'welcome all');
    const deleted = next(viewer, 'messageDeleted');
    await moderator.deleteMessage(room, Number(rude.seq), 'rude');
    const [event] = await deleted;
    expect(event).toMatchObject({ room: { id: room.id }, deletedBy: mod });
    expect(event.seqs!.map(Number)).toEqual([Number(rude.seq)]);
    expect(Number(event.deletedAtMs)).toBeGreaterThan(0);
    await expect(moderator.deleteMessage(room, Number(hostMessage.seq))).rejects.toBeInstanceOf(ForbiddenError);
    const tombstone = (await viewer.history(room)).messages!.find((m) => Number(m.seq) === Number(rude.seq))!;
    expect(tombstone).toMatchObject({ senderId: troll, deletedBy: mod, content: '' });

    // A timeout: everyone is told, and the user's sends fail with the time left until it is lifted.
    const timedOut = next(viewer, 'userSanctioned', (e) => e.sanction === Sanction.SANCTION_TIMEOUT);
    await moderator.timeoutUser(room, troll, 600, { reason: 'cool down' });
    expect((await timedOut)[0]).toMatchObject({ userId: troll, reason: 'cool down', moderatorId: mod });
    expect(Number((await timedOut)[0].expiresAtMs)).toBeGreaterThan(Date.now());
    const refused = await waitForRefusal(() => trollClient.send(room, 'still here'), TimedOutError);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    const lifted = next(viewer, 'userSanctioned', (e) => e.sanction === Sanction.SANCTION_NONE);
    await moderator.unbanUser(room, troll);
    expect((await lifted)[0]).toMatchObject({ userId: troll });
    await waitForAck(() => trollClient.send(room, 'sorry'));

    // A ban that clears their messages: the banned client loses the room, and its sends and joins fail with BannedError.
    const lost = next(trollClient, 'roomLost');
    const cleared = next(viewer, 'messageDeleted', (e) => e.deletedBy === host);
    await broadcaster.banUser(room, troll, { reason: 'again', clearMessages: true });
    const [lostRoom, why] = await lost;
    expect(lostRoom).toMatchObject({ id: room.id });
    expect(why).toBeInstanceOf(BannedError);
    expect((await cleared)[0].seqs!.length).toBeGreaterThan(0);
    await waitForRefusal(() => trollClient.send(room, 'let me back'), BannedError);
    await expect(trollClient.join(room)).rejects.toBeInstanceOf(BannedError);
    await broadcaster.unbanUser(room, troll);
    await waitForAck(() => trollClient.join(room));
  });

  test("a burst reaches a viewer as batch events of new messages, and the stream's end as roomClosed", async () => {
    const [host, fan] = [user('bt-host'), user('bt-fan')];
    const room = await system.createLiveRoom(host);
    const broadcaster = await connect(host, room);
    const viewer = await connect(fan, room);
    const viewerLog = new MessageLog(viewer);
    const batches = record(viewer, 'batch');

    const acks = await Promise.all(Array.from({ length: 30 }, (_, i) => broadcaster.send(room, `burst ${i}`)));
    const seqs = acks.map((a) => Number(a.seq)).sort((x, y) => x - y);
    await viewerLog.waitFor(room, 30);
    expect(viewerLog.seqs(room)).toEqual(seqs);
    expect(batches.some(([, messages]) => messages.length > 1)).toBe(true);
    // A batch event carries the messages its frame brought, each already a `message` event.
    const batched = batches.flatMap(([batchRoom, messages]) => messages.map((m) => [batchRoom.id, m.room?.id, Number(m.seq)]));
    expect(batched.every(([batchRoom, messageRoom]) => batchRoom === room.id && messageRoom === room.id)).toBe(true);
    expect(batched.map(([, , seq]) => seq).every((seq) => seqs.includes(seq as number))).toBe(true);

    const closed = next(viewer, 'roomClosed');
    expect((await system.api('POST', `/api/v1/live/${room.id}/end`)).status).toBe(200);
    expect((await closed)[0].room).toMatchObject({ id: room.id });
    await expect(viewer.send(room, 'too late')).rejects.toBeInstanceOf(RoomClosedError);
  });
});

describe('a send that cannot be delivered in time', () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await startTcpProxy(system.gateways[0]!.port);
  });
  afterAll(() => proxy.stop());

  test('rejects with SendTimeoutError, leaves the outbox, and is never stored later', async () => {
    const [a, b] = [system.user('to-a'), system.user('to-b')];
    const room = await system.createPrivateRoom(a, b);
    const sender = await LomiClient.connect({
      url: proxy.url,
      token: await system.token(a),
      WebSocket: WebSocket as never,
      reconnectWindowMs: 100,
      reconnectMaxMs: 200,
      sendTimeoutMs: 500,
    });
    await sender.join(room);
    expect(Number((await sender.send(room, 'before the cut')).seq)).toBe(1);

    proxy.set('cut');
    await waitFor(() => sender.state === 'reconnecting', 'the sender to notice the cut');
    const lost = sender.send(room, 'never delivered', { clientMsgId: 'late-1' });
    // A send of its own timeout outlives the client's.
    const patient = sender.send(room, 'delivered later', { timeoutMs: 0 });
    const error = await lost.catch((err: Error) => err);
    expect(error).toBeInstanceOf(SendTimeoutError);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ clientMsgId: 'late-1', timeoutMs: 500 });
    expect(sender.pendingSends).toBe(1);

    proxy.set('forward');
    expect(Number((await patient).seq)).toBe(2);
    const reader = await system.connect(b, { join: room });
    const page = await reader.history(room, { limit: 10 });
    expect(page.messages!.map((m) => m.content)).toEqual(['before the cut', 'delivered later']);
    await sender.close();
  });
});
