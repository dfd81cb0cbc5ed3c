// The real run behind the examples of docs/protocol.md: a running system, sockets in the JSON
// encoding, and every command of chat.proto sent over the wire by the users of a small story (a
// live stream of bob's watched by alice, then a private chat of the two). Each frame sent and
// each reply or push received is kept, as the server wrote it, under the name of its example.
import { connectRedis, createKeys } from '@lomi/hot-state';
import { createLogger } from '@lomi/service-runtime';
import { Encoding, RoomKind, type lomi, type Room } from '@lomi/protocol';
import { RawSocket, waitFor, type CapturedFrame } from '@lomi/testkit';
import type { TestSystem } from './system';

/** The environment of the run: a busy room batches after 50 ms even with two sockets (for the `batch` example). */
export const CAPTURE_ENV = { BATCH_FRAMES_PER_S: '20' };

type Frame = lomi.chat.v1.ServerFrame;
type Command = Record<string, unknown>;

/** One user's socket, whose frames are kept as examples. */
class Speaker {
  private nextRequestId = 1;

  constructor(
    private readonly socket: RawSocket,
    private readonly keep: (id: string, frame: CapturedFrame) => void,
  ) {}

  /** Sends `command` with the next request id; resolves with the frame's text as sent, and its reply. */
  async exchange(command: Command): Promise<{ sent: string; reply: Frame }> {
    const frame = { requestId: this.nextRequestId++, ...command };
    const reply = await this.socket.request(frame);
    if (!reply) throw new Error(`the socket closed before the reply to ${JSON.stringify(frame)}: ${JSON.stringify(this.socket.closed)}`);
    return { sent: JSON.stringify(frame), reply };
  }

  /** A command that must succeed: kept as example `id` and its reply as `replyId` (those given). */
  async command(id: string | undefined, command: Command, replyId?: string): Promise<Frame> {
    const { sent, reply } = await this.exchange(command);
    if (reply.error) throw new Error(`${sent} was refused: ${this.socket.textOf(reply)}`);
    this.keepExchange(id, sent, replyId, reply);
    return reply;
  }

  /**
   * A command kept as example `id` with its reply as `replyId`, whatever the reply: the marker of
   * the reply's example says which it must be (an error, for the refusals shown).
   */
  async attempt(id: string, command: Command, replyId: string): Promise<Frame> {
    const { sent, reply } = await this.exchange(command);
    this.keepExchange(id, sent, replyId, reply);
    return reply;
  }

  keepExchange(id: string | undefined, sent: string, replyId: string | undefined, reply: Frame): void {
    if (id) this.keep(id, { message: 'ClientFrame', text: sent });
    if (replyId) this.keepFrame(replyId, reply);
  }

  /** The first push that `matches`, kept as example `id` (if given). */
  async push(id: string | undefined, matches: (frame: Frame) => boolean): Promise<Frame> {
    const what = id ? `push for the "${id}" example` : 'push';
    const frame = await this.socket.next((f) => !f.requestId && matches(f), 15_000, what);
    if (!frame) throw new Error(`the socket closed before the ${what}: ${JSON.stringify(this.socket.closed)}`);
    if (id) this.keepFrame(id, frame);
    return frame;
  }

  close(): void {
    this.socket.close();
  }

  private keepFrame(id: string, frame: Frame): void {
    const text = this.socket.textOf(frame);
    if (text === undefined) throw new Error(`"${id}" did not arrive as a text frame`);
    this.keep(id, { message: 'ServerFrame', text });
  }
}

/** Runs the story against `system` (started with CAPTURE_ENV) and returns every frame kept, by example name. */
export async function captureProtocolExamples(system: TestSystem): Promise<Map<string, CapturedFrame>> {
  const captured = new Map<string, CapturedFrame>();
  const keep = (id: string, frame: CapturedFrame) => {
    if (captured.has(id)) throw new Error(`example "${id}" was captured twice`);
    captured.set(id, frame);
  };
  const speakers: Speaker[] = [];
  const open = async (userId: string, expiresIn?: number): Promise<Speaker> => {
    const socket = await RawSocket.open(system.wsUrl(), await system.token(userId, { expiresIn }), Encoding.JSON);
    const speaker = new Speaker(socket, keep);
    speakers.push(speaker);
    return speaker;
  };
  const redis = await connectRedis(system.env.REDIS_URL!, createLogger('protocol-doc', 'silent'));
  try {
    await liveStory(system, open, redis);
    await tokenStory(system, open);
    await privateStory(system, open);
  } finally {
    for (const speaker of speakers) speaker.close();
    redis.disconnect();
  }
  return captured;
}

type Open = (userId: string, expiresIn?: number) => Promise<Speaker>;
type Redis = Awaited<ReturnType<typeof connectRedis>>;

/** A room as the JSON encoding writes it. */
const jsonRoom = (room: Room) => ({ kind: room.kind === RoomKind.ROOM_KIND_LIVE ? 'ROOM_KIND_LIVE' : 'ROOM_KIND_PRIVATE', id: room.id });

async function liveStory(system: TestSystem, open: Open, redis: Redis): Promise<void> {
  const stream = await system.createLiveRoom('bob');
  const room = jsonRoom(stream);
  const bob = await open('bob');
  const alice = await open('alice');
  const dave = await open('dave');
  await bob.command(undefined, { join: { room } });
  // Counted before alice comes, so that her join reply counts both.
  await bob.push(undefined, (f) => Number(f.viewers?.count) === 1);
  const joined = await alice.command('join', { join: { room } }, 'joined-live');
  await bob.push('viewers', (f) => Number(f.viewers?.count) === 2);

  const ack = await alice.command('send-text', { send: { room, clientMsgId: 'a1b2c3', text: 'Hello from Lisbon!' } }, 'ack');
  await bob.push('message', (f) => f.message?.clientMsgId === 'a1b2c3');
  await alice.command(undefined, { send: { room, clientMsgId: 'a1b2c3', text: 'Hello from Lisbon!' } }, 'ack-duplicate');
  await alice.command('send-gift', { send: { room, clientMsgId: 'a1b2c4', gift: { giftId: 'rose', count: 3 } } });
  await bob.push('message-gift', (f) => f.message?.clientMsgId === 'a1b2c4');
  // Sent together, the last ones reach bob in one frame (CAPTURE_ENV's window).
  const burst = ['so good', 'encore!', 'what song is this?', '🔥🔥🔥'];
  await Promise.all(burst.map((text, i) => alice.command(undefined, { send: { room, clientMsgId: `a1b2d${i}`, text } })));
  await bob.push('batch', (f) => (f.batch?.messages?.length ?? 0) > 1);

  await bob.command('history', { history: { room, limit: 2 } }, 'history-reply');
  await dave.attempt('send-not-joined', { send: { room, clientMsgId: 'd1', text: 'hi' } }, 'error-not-joined');

  await bob.command('pin', { pin: { room, messageSeq: String(ack.ack!.seq), durationS: 600 } }, 'ok');
  await alice.push('pin-update', (f) => Boolean(f.pin?.pin));
  await bob.command('unpin', { unpin: { room } });
  await alice.push('pin-cleared', (f) => Boolean(f.pin) && !f.pin!.pin);

  await bob.command(
    'set-room-settings',
    { setRoomSettings: { room, slowModeS: 10, blockedTerms: { terms: ['spam*', 'buy followers'] }, blockedTermsAction: 'FILTER_ACTION_MASK' } },
    'room-settings-reply',
  );
  await alice.push('room-settings-push', (f) => f.roomSettings?.settings?.slowModeS === 10);
  // Once the message workers apply it (within a second), slow mode refuses alice's next message.
  await slowModeRefusal(alice, room);

  await bob.command('grant-moderator', { grantModerator: { room, userId: 'carol', scope: 'MODERATOR_SCOPE_STREAM' } });
  await bob.command('revoke-moderator', { revokeModerator: { room, userId: 'carol', scope: 'MODERATOR_SCOPE_STREAM' } });
  await alice.command('report-message', { reportMessage: { room, seq: String(ack.ack!.seq), reason: 'spoiler' } });

  await moderationStory(bob, alice, room, String(ack.ack!.seq));

  // alice leaves after the last message she saw, misses two, and comes back with its seq and epoch.
  const seen = await say(bob, alice, room, 'b-1', 'Short break, stay with us');
  await alice.command('leave', { leave: { room } }, 'left');
  await say(bob, bob, room, 'b-2', 'We are back');
  await say(bob, bob, room, 'b-3', 'Next song: a request from alice');
  await alice.command('join-recover', { join: { room, sinceSeq: seen, epoch: joined.joined!.epoch } }, 'joined-recovered');

  // The room's state is lost in Redis (as when it restarts empty): the next send resets the room.
  const keys = createKeys(system.namespace);
  await waitFor(async () => (await redis.xlen(keys.outbox(stream))) === 0, 'the outbox to reach Postgres');
  await redis.del(keys.seqLease(stream), keys.seq(stream), keys.epoch(stream), keys.history(stream));
  await bob.command(undefined, { send: { room, clientMsgId: 'b-after-reset', text: 'Can you hear me?' } });
  await alice.push('room-reset', (f) => Boolean(f.roomReset));

  await system.api('POST', `/api/v1/live/${stream.id}/end`);
  await alice.push('room-closed', (f) => Boolean(f.roomClosed));
}

/** bob, the broadcaster, deletes a message of alice's and sanctions dave; alice sees it all. */
async function moderationStory(bob: Speaker, alice: Speaker, room: object, seq: string): Promise<void> {
  await bob.command('delete-message', { deleteMessage: { room, seq, reason: 'spoiler' } });
  await alice.push('message-deleted', (f) => Boolean(f.messageDeleted));
  await bob.command('timeout-user', { timeoutUser: { room, userId: 'dave', durationS: 300, reason: 'flooding' } });
  await alice.push('user-sanctioned', (f) => f.userSanctioned?.userId === 'dave');
  await bob.command('ban-user', { banUser: { room, userId: 'dave', reason: 'flooding again', clearMessages: true } });
  await bob.command('unban-user', { unbanUser: { room, userId: 'dave' } });
}

/** `speaker` sends a text to the room; resolves with its seq once `listener` has it. */
async function say(speaker: Speaker, listener: Speaker, room: object, clientMsgId: string, text: string): Promise<string> {
  const reply = await speaker.command(undefined, { send: { room, clientMsgId, text } });
  if (!reply.ack) throw new Error(`send refused: ${JSON.stringify(reply)}`);
  const seq = String(reply.ack.seq);
  await listener.push(undefined, (f) => [f.message, ...(f.batch?.messages ?? [])].some((m) => String(m?.seq) === seq));
  return seq;
}

/** Sends as `speaker` until slow mode refuses a message; keeps that send and its refusal. */
async function slowModeRefusal(speaker: Speaker, room: object): Promise<void> {
  const deadline = Date.now() + 5000;
  for (let i = 1; Date.now() < deadline; i++) {
    const send = { send: { room, clientMsgId: `slow-${i}`, text: 'one more' } };
    const { sent, reply } = await speaker.exchange(send);
    if (reply.error) return speaker.keepExchange('send-too-soon', sent, 'error-rate-limited', reply);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('slow mode never refused a message');
}

async function tokenStory(system: TestSystem, open: Open): Promise<void> {
  // A token with less than twice TOKEN_EXPIRING_NOTICE_S (60 s) left is noticed halfway through
  // what is left: here after 4 s, and refreshed before it runs out.
  const alice = await open('alice', Math.floor(Date.now() / 1000) + 8);
  await alice.push('token-expiring', (f) => Boolean(f.tokenExpiring));
  await alice.command('refresh', { refresh: { token: await system.token('alice') } });
  await alice.attempt('refresh-other-user', { refresh: { token: await system.token('bob') } }, 'error-invalid-token');
  await alice.command('ping', { ping: {} }, 'pong');
}

async function privateStory(system: TestSystem, open: Open): Promise<void> {
  const room = jsonRoom(await system.createPrivateRoom('alice', 'bob'));
  const alice = await open('alice');
  const bob = await open('bob');
  await alice.command(undefined, { join: { room } }, 'joined-private');
  await bob.command(undefined, { join: { room } });
  await alice.command('typing', { typing: { room, typing: true } });
  await bob.push('typing-push', (f) => Boolean(f.typing?.typing));
  const ack = await alice.command(undefined, { send: { room, clientMsgId: 'a9f1', text: 'See you at the show tonight?' } });
  const seq = String(ack.ack!.seq);
  await bob.command('mark-delivered', { markDelivered: { room, seq } });
  await bob.command('mark-read', { markRead: { room, seq } });
  await alice.push('receipt', (f) => Number(f.receipt?.readSeq) === Number(seq));
  await alice.command('list-conversations', { listConversations: { limit: 20 } }, 'conversations');
  await alice.command('block-user', { blockUser: { userId: 'carol' } }, 'block-user-reply');
  await alice.command('unblock-user', { unblockUser: { userId: 'carol' } }, 'unblock-user-reply');
}
