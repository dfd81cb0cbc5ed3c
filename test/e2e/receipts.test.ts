// Read and delivery receipts in private rooms: members only, forward only, clamped to the room's
// top, pushed to the other member, persisted, and reflected in join replies and unread counts
// (messages from the other member after my read seq) across offline periods.
import { ErrorCode, RoomKind, type LomiClient, type Room } from '@lomi/client';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 2, messageWorkers: 2 });
});
afterAll(async () => {
  await system.stop();
});

async function stored(room: Room, userId: string): Promise<{ read_seq: number; delivered_seq: number } | undefined> {
  const rows = await system.query<{ read_seq: number; delivered_seq: number }>(
    'select read_seq, delivered_seq from conversation_reads where conversation_id = $1 and user_id = $2',
    [room.id, userId],
  );
  return rows[0];
}

async function sendAll(client: LomiClient, room: Room, texts: string[]): Promise<number> {
  let seq = 0;
  for (const text of texts) seq = Number((await client.send(room, text)).seq);
  return seq;
}

test('delivery and read receipts are pushed to the sender, only move forward, and are persisted', async () => {
  const [a, b] = [system.user('ra'), system.user('rb')];
  const room = await system.createPrivateRoom(a, b);
  const sender = await system.connect(a, { gateway: 0 });
  const reader = await system.connect(b, { gateway: 1 });
  await sender.join(room);
  await reader.join(room);
  await sendAll(sender, room, ['one', 'two', 'three']);

  await reader.markDelivered(room, 3);
  const delivered = await system.pushes(sender).waitFor('receipt', (e) => Number(e.deliveredSeq) === 3);
  expect(delivered).toMatchObject({ userId: b, room: { kind: RoomKind.ROOM_KIND_PRIVATE, id: room.id } });
  expect(Number(delivered.readSeq)).toBe(0);

  await reader.markRead(room, 2);
  const read = await system.pushes(sender).waitFor('receipt', (e) => Number(e.readSeq) === 2);
  expect(Number(read.deliveredSeq)).toBe(3);

  // Backwards: accepted, changes nothing, pushes nothing. Beyond the top: clamped to it.
  await reader.markRead(room, 1);
  await reader.markDelivered(room, 2);
  await reader.markRead(room, 999);
  await system.pushes(sender).waitFor('receipt', (e) => Number(e.readSeq) === 3);
  expect(
    system
      .pushes(sender)
      .of('receipt')
      .map((e) => [Number(e.readSeq), Number(e.deliveredSeq)]),
  ).toEqual([
    [0, 3],
    [2, 3],
    [3, 3],
  ]);
  expect(await stored(room, b)).toEqual({ read_seq: 3, delivered_seq: 3 });

  const senderView = await (await system.connect(a, { gateway: 1 })).join(room);
  expect(senderView.readState).toMatchObject({ otherReadSeq: 3, otherDeliveredSeq: 3, myReadSeq: 0 });
  expect(Number(senderView.readState!.unreadCount ?? 0)).toBe(0);
});

test('unread counts only the other member’s messages after my read seq, across offline periods', async () => {
  const [a, b] = [system.user('ua'), system.user('ub')];
  const room = await system.createPrivateRoom(a, b);
  const alice = await system.connect(a);
  await alice.join(room);
  const unreadOf = async (user: string) => {
    const client = await system.connect(user, { gateway: 1 });
    const joined = await client.join(room);
    return { client, unread: Number(joined.readState?.unreadCount ?? 0), readState: joined.readState! };
  };

  // Bob is offline while Alice writes.
  await sendAll(alice, room, ['a1', 'a2', 'a3', 'a4']);
  let bob = await unreadOf(b);
  expect(bob.unread).toBe(4);
  // Bob's own messages never count for him, but do for Alice.
  const top = await sendAll(bob.client, room, ['b1', 'b2']);
  await bob.client.close();
  bob = await unreadOf(b);
  expect(bob.unread).toBe(4);
  expect((await unreadOf(a)).unread).toBe(2);

  await bob.client.markRead(room, top);
  await bob.client.close();
  expect((await unreadOf(b)).unread).toBe(0);

  // Offline again; two more from Alice.
  await sendAll(alice, room, ['a5', 'a6']);
  bob = await unreadOf(b);
  expect(bob.unread).toBe(2);
  expect(Number(bob.readState.myReadSeq)).toBe(top);
  await bob.client.markRead(room, top + 1);
  expect((await unreadOf(b)).unread).toBe(1);
});

test('a non-member is refused receipts exactly like a missing conversation; live rooms have none', async () => {
  const room = await system.createPrivateRoom(system.user('na'), system.user('nb'));
  const member = await system.connect(system.user('na'));
  await member.join(room);
  await member.send(room, 'private');
  const stranger = await system.connect(system.user('nc'));
  const missing: Room = { kind: RoomKind.ROOM_KIND_PRIVATE, id: 'no-such-conversation' };
  for (const op of [(r: Room) => stranger.markRead(r, 1), (r: Room) => stranger.markDelivered(r, 1)]) {
    const refused = await op(room).catch((e: unknown) => e);
    const unknown = await op(missing).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN });
    expect(unknown).toMatchObject({ code: (refused as { code: number }).code, message: (refused as Error).message });
  }
  expect(await stored(room, system.user('nc'))).toBeUndefined();
  expect(system.pushes(member).of('receipt')).toHaveLength(0);

  const live = await system.createLiveRoom(system.user('na'));
  await expect(member.markRead(live, 1)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
});
