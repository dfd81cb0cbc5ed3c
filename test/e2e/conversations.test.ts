// The conversation list: my private conversations, newest activity first, each with its last
// message and read state, paged with an opaque cursor; only my own conversations.
import { ErrorCode, type LomiClient, type Room } from '@lomi/client';
import { waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 2, messageWorkers: 2 });
});
afterAll(() => system.stop());

/** Every page of the user's list, following next_cursor. */
async function allPages(client: LomiClient, limit: number) {
  const pages = [];
  let cursor = '';
  do {
    const page = await client.listConversations({ cursor, limit });
    pages.push(page.conversations ?? []);
    cursor = page.nextCursor ?? '';
  } while (cursor);
  return pages;
}

const ids = (list: { room?: { id?: string | null } | null }[]) => list.map((c) => c.room?.id);

test('newest activity first, with last message and unread counts, paged without gaps or repeats', async () => {
  const me = system.user('cl-me');
  const others = ['cl-x', 'cl-y', 'cl-z'].map((n) => system.user(n));
  const rooms: Room[] = [];
  for (const other of others) rooms.push(await system.createPrivateRoom(me, other));
  const quiet = await system.createPrivateRoom(me, system.user('cl-quiet'));
  const [x, y, z] = await Promise.all(others.map((o) => system.connect(o, { gateway: 1 })));

  // Activity order: x, then y, then z; the quiet one has none since it was created.
  await x!.send(rooms[0]!, 'from x');
  await y!.send(rooms[1]!, 'from y 1');
  await y!.send(rooms[1]!, 'from y 2');
  await z!.send(rooms[2]!, 'from z');

  const client = await system.connect(me);
  // The order comes from Postgres, which the persister updates a moment after each send.
  const expected = [rooms[2]!.id, rooms[1]!.id, rooms[0]!.id, quiet.id];
  await waitFor(async () => JSON.stringify(ids((await client.listConversations()).conversations ?? [])) === JSON.stringify(expected), 'the list in activity order');

  const { conversations } = await client.listConversations();
  const [first, second] = conversations!;
  expect(first).toMatchObject({ otherUserId: others[2], lastMessage: { content: 'from z', senderId: others[2] } });
  expect(Number(first!.readState!.unreadCount)).toBe(1);
  expect(second!.lastMessage!.content).toBe('from y 2');
  expect(Number(second!.readState!.unreadCount)).toBe(2);
  expect(Number(first!.lastActivityMs)).toBeGreaterThanOrEqual(Number(second!.lastActivityMs));
  expect(conversations![3]!.lastMessage).toBeFalsy();

  const pages = await allPages(client, 3);
  expect(pages.map((p) => p.length)).toEqual([3, 1]);
  expect(pages.flat().map((c) => c.room?.id)).toEqual(expected);

  // New activity moves a conversation to the top; my own message counts as activity but not unread.
  await client.send(rooms[0]!, 'back to x');
  await waitFor(async () => (await client.listConversations({ limit: 1 })).conversations?.[0]?.room?.id === rooms[0]!.id, 'x back on top');
  const top = (await client.listConversations({ limit: 1 })).conversations![0]!;
  expect(top.lastMessage!.content).toBe('back to x');
  expect(Number(top.readState!.unreadCount)).toBe(1);
  await client.markRead(rooms[0]!, Number(top.lastMessage!.seq));
  expect(Number((await client.listConversations({ limit: 1 })).conversations![0]!.readState!.unreadCount)).toBe(0);
  expect(Number((await z!.listConversations()).conversations![0]!.readState!.otherReadSeq)).toBe(0);
});

test('a user sees only their own conversations; bad cursors and limits are refused', async () => {
  const [a, b, c] = [system.user('ol-a'), system.user('ol-b'), system.user('ol-c')];
  const room = await system.createPrivateRoom(a, b);
  const stranger = await system.connect(c);
  expect((await stranger.listConversations()).conversations ?? []).toHaveLength(0);
  const member = await system.connect(b);
  expect(ids((await member.listConversations()).conversations ?? [])).toEqual([room.id]);

  await expect(member.listConversations({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
  await expect(member.listConversations({ limit: 101 })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
});
