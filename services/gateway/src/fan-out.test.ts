// A room's events from the in-process bus through its channel (reorder buffer, fan-out) to what
// each member's socket would receive, with uWS's topic publish played by a recording fake.
import { Registry } from 'prom-client';
import { createSubjects, MemoryBroker, type Bus } from '@lomi/bus';
import { createLogger } from '@lomi/service-runtime';
import { decodeServerFrame, Encoding, internal, RoomKind, roomKey, Sanction, type ChatMessage, type lomi, type ServerFrame } from '@lomi/protocol';
import { createGatewayMetrics } from './metrics';
import type { RoomChannel } from './room-channel';
import { RoomChannels } from './room-channels';
import type { MemberSocket, RoomMember } from './room-member';

const GAP_WAIT_MS = 20;
const room = { kind: RoomKind.ROOM_KIND_LIVE, id: 'fan-out-test' };
const subjects = createSubjects('unit');

interface FakeMember extends RoomMember {
  rooms: Map<string, unknown>;
  /** Frames the member's socket got from topic publishes, decoded. */
  pushed: ServerFrame[];
  /** Frames sent to this socket alone. */
  sent: ServerFrame[];
}

/** uWS topics: a publish reaches every socket subscribed to its topic. */
class FakeTopics {
  private readonly subscribers = new Map<string, Set<FakeMember>>();

  publish(topic: unknown, frame: unknown): boolean {
    for (const m of this.subscribers.get(String(topic)) ?? []) m.pushed.push(decodeServerFrame(frame as Uint8Array, m.encoding));
    return true;
  }

  socket(member: () => FakeMember): MemberSocket {
    const topic = (name: unknown) => {
      const key = String(name);
      if (!this.subscribers.has(key)) this.subscribers.set(key, new Set());
      return this.subscribers.get(key)!;
    };
    return {
      subscribe: (name) => !!topic(name).add(member()),
      unsubscribe: (name) => topic(name).delete(member()),
      send: () => 1,
      end: () => undefined,
      getBufferedAmount: () => 0,
    };
  }
}

const message = (seq: number): ChatMessage => ({ seq, room, content: `m${seq}`, senderId: 'sender', createdAtMs: Date.now() });
const seqsOf = (frames: ServerFrame[]) => frames.flatMap((f) => (f.message ? [f.message] : (f.batch?.messages ?? []))).map((m) => Number(m.seq));

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let bus: Bus;
let topics: FakeTopics;
let channels: RoomChannels<FakeMember>;
/** Messages the fake message workers have stored, for gap fills. */
let stored: Map<number, ChatMessage>;
let banned: FakeMember[];

function newMember(userId: string, encoding: Encoding): FakeMember {
  const m: FakeMember = { userId, encoding, closed: false, rooms: new Map(), pushed: [], sent: [], ws: topics.socket(() => m) };
  return m;
}

/** Joins `member` as commands.ts does once the workers answered: the room's top is `topSeq`. */
async function join(member: FakeMember, topSeq = 0): Promise<RoomChannel<FakeMember>> {
  const channel = await channels.ensure(room, member);
  channel.initialise(topSeq, 'e1', 0);
  channel.fanOut.subscribe(member, channel.fanOut.shardFor(member));
  member.rooms.set(roomKey(room), channel);
  return channel;
}

function publish(event: lomi.internal.v1.IRoomEvent): void {
  bus.publish(subjects.room(room), internal.RoomEvent.encode(event).finish());
}

beforeEach(() => {
  bus = new MemoryBroker().connect({ requestTimeoutMs: 1000 });
  topics = new FakeTopics();
  stored = new Map();
  banned = [];
  const range = async (req: lomi.internal.v1.IRangeRequest) => {
    const messages = [...stored.values()].filter((m) => Number(m.seq) > Number(req.afterSeq) && Number(m.seq) <= Number(req.untilSeq));
    return internal.RangeReply.create({ messages, complete: true, untilSeq: req.untilSeq ?? 0, epoch: 'e1' });
  };
  channels = new RoomChannels<FakeMember>({
    app: topics,
    bus,
    subjects,
    workers: { range },
    metrics: createGatewayMetrics(new Registry()),
    log: createLogger('test', 'silent'),
    send: (member, frame) => member.sent.push(frame),
    banned: (member, channel) => {
      banned.push(member);
      member.rooms.delete(channel.key);
      channels.release(channel, member);
    },
    gapWaitMs: GAP_WAIT_MS,
    batchWindowMs: 5,
    batchFramesPerS: 100_000,
    turnSockets: 2,
    turnBytes: 64 * 1024,
  });
});

afterEach(() => bus.drain());

test("every member gets the room's messages once, in seq order, in its own encoding, whatever order the bus brought them in", async () => {
  const members = [newMember('alice', Encoding.PROTO), newMember('bob', Encoding.JSON), newMember('carol', Encoding.PROTO)];
  let channel: RoomChannel<FakeMember> | undefined;
  for (const m of members) channel = await join(m);
  for (const seq of [1, 3, 2, 4]) publish({ message: message(seq) });
  await until(() => members.every((m) => seqsOf(m.pushed).length >= 4));
  for (const m of members) expect(seqsOf(m.pushed)).toEqual([1, 2, 3, 4]);
  // Each on a shard (a topic) of its own.
  expect(new Set(members.map((m) => channel!.fanOut.shardFor(m))).size).toBe(3);
});

test('a message the bus dropped is fetched from the workers after the gap wait and delivered in its place', async () => {
  const alice = newMember('alice', Encoding.PROTO);
  const bob = newMember('bob', Encoding.JSON);
  await join(alice);
  await join(bob);
  stored.set(2, message(2));
  publish({ message: message(1) });
  publish({ message: message(3) });
  await until(() => seqsOf(alice.pushed).length >= 1 && seqsOf(bob.pushed).length >= 1);
  expect(seqsOf(alice.pushed)).toEqual([1]);
  await until(() => seqsOf(alice.pushed).length >= 3 && seqsOf(bob.pushed).length >= 3);
  expect(seqsOf(alice.pushed)).toEqual([1, 2, 3]);
  expect(seqsOf(bob.pushed)).toEqual([1, 2, 3]);
});

test("a joiner catches up from the room's recent messages to the live edge of its shard", async () => {
  const alice = newMember('alice', Encoding.PROTO);
  const channel = await join(alice);
  for (const seq of [1, 2, 3]) publish({ message: message(seq) });
  await until(() => seqsOf(alice.pushed).length >= 3);
  const caughtUp = await channel.catchUp([message(2)], 1, channel.fanOut.shardFor(alice));
  expect(caughtUp.map((m) => Number(m.seq))).toEqual([2, 3]);
});

test("a room reset goes to the members after the old epoch's last message, before the new epoch's first", async () => {
  const alice = newMember('alice', Encoding.JSON);
  const channel = await join(alice);
  publish({ message: message(11) });
  publish({ roomReset: { room, previousEpoch: 'e1', epoch: 'e2', lastSeq: 1, startSeq: 10 } });
  publish({ message: message(1) });
  await until(() => alice.pushed.length >= 3);
  expect(alice.pushed.map((f) => f.roomReset?.epoch ?? Number(f.message?.seq))).toEqual([1, 'e2', 11]);
  expect(channel.epoch).toBe('e2');
});

test("typing is sent to the other members' sockets only", async () => {
  const alice = newMember('alice', Encoding.PROTO);
  const bob = newMember('bob', Encoding.PROTO);
  await join(alice);
  await join(bob);
  publish({ typing: { room, userId: 'alice' } });
  await until(() => bob.sent.length > 0);
  expect(bob.sent).toEqual([{ typing: expect.objectContaining({ userId: 'alice' }) }]);
  expect(alice.sent).toEqual([]);
});

test("a banned user's sockets are told and taken out of the room; the others see the sanction and the room goes on", async () => {
  const alice = newMember('alice', Encoding.PROTO);
  const mallory = newMember('mallory', Encoding.PROTO);
  await join(alice);
  await join(mallory);
  publish({ userSanctioned: { room, userId: 'mallory', sanction: Sanction.SANCTION_BAN } });
  publish({ message: message(1) });
  await until(() => seqsOf(alice.pushed).length >= 1);
  expect(banned).toEqual([mallory]);
  expect(mallory.sent.map((f) => f.userSanctioned?.userId)).toEqual(['mallory']);
  expect(alice.pushed[0]!.userSanctioned?.userId).toBe('mallory');
  expect(seqsOf(mallory.pushed)).toEqual([]);
});

test("the last member's release closes the room's channel and its subscription", async () => {
  const alice = newMember('alice', Encoding.PROTO);
  const channel = await join(alice);
  channels.release(channel, alice);
  expect(channels.size).toBe(0);
  publish({ message: message(1) });
  await new Promise((resolve) => setTimeout(resolve, 30));
  expect(alice.pushed).toEqual([]);
});
