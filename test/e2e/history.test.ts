// History pages, over the WebSocket and over HTTP, in seq order, for members only.
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 1, messageWorkers: 1 });
});
afterAll(() => system.stop());

async function get(path: string, token?: string) {
  const res = await fetch(`${system.httpUrl()}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as any };
}

test('the history command pages forwards and backwards in seq order', async () => {
  const room = await system.createLiveRoom('b-history');
  const client = await system.connect('pager');
  await client.join(room);
  for (let i = 1; i <= 25; i++) await client.send(room, `h-${i}`);

  const first = await client.history(room, { limit: 10 });
  expect(first.messages!.map((m) => Number(m.seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  expect(first.hasMore).toBe(true);
  const next = await client.history(room, { afterSeq: 20, limit: 10 });
  expect(next.messages!.map((m) => Number(m.seq))).toEqual([21, 22, 23, 24, 25]);
  expect(next.hasMore).toBeFalsy();
  const newest = await client.history(room, { beforeSeq: 26, limit: 5 });
  expect(newest.messages!.map((m) => m.content)).toEqual(['h-21', 'h-22', 'h-23', 'h-24', 'h-25']);
  expect(newest.hasMore).toBe(true);
  await expect(client.history(room, { limit: 500 })).rejects.toMatchObject({ message: expect.stringMatching(/limit/) });
});

test('GET /api/v1/live/:id/messages pages with a user token or the service token', async () => {
  const room = await system.createLiveRoom('b-http-history');
  const client = await system.connect('poster');
  await client.join(room);
  for (let i = 1; i <= 5; i++) await client.send(room, `w-${i}`);

  const viewerToken = await system.token('someone');
  const page = await get(`/api/v1/live/${room.id}/messages?after_seq=2&limit=2`, viewerToken);
  expect(page.status).toBe(200);
  // 64-bit numbers are strings, as in the proto3 JSON mapping.
  expect(page.body.messages.map((m: { seq: string; content: string }) => [m.seq, m.content])).toEqual([
    ['3', 'w-3'],
    ['4', 'w-4'],
  ]);
  expect(page.body.hasMore).toBe(true);
  // Query parameters take the lowerCamel JSON name too, as bodies do.
  const camel = await get(`/api/v1/live/${room.id}/messages?afterSeq=2&limit=2`, viewerToken);
  expect(camel).toEqual(page);
  const older = await get(`/api/v1/live/${room.id}/messages?beforeSeq=4&limit=2`, viewerToken);
  expect(older.body.messages.map((m: { content: string }) => m.content)).toEqual(['w-2', 'w-3']);
  const both = await get(`/api/v1/live/${room.id}/messages?after_seq=1&afterSeq=3`, viewerToken);
  expect(both.status).toBe(400);
  expect(both.body.error.message).toMatch(/after_seq.*afterSeq/);
  expect((await get(`/api/v1/live/${room.id}/messages`, system.serviceToken)).body.messages).toHaveLength(5);
  expect((await get(`/api/v1/live/${room.id}/messages`)).status).toBe(401);
  expect((await get(`/api/v1/live/${room.id}/messages?limit=abc`, viewerToken)).status).toBe(400);
  expect((await get(`/api/v1/live/nope-${room.id}/messages`, viewerToken)).status).toBe(404);
});

test('GET /api/v1/conversations/:id/messages is for the two members only', async () => {
  const [a, b] = [system.user('ha'), system.user('hb')];
  const room = await system.createPrivateRoom(a, b);
  const client = await system.connect(a);
  await client.send(room, 'private words');

  const member = await get(`/api/v1/conversations/${room.id}/messages`, await system.token(b));
  expect(member.status).toBe(200);
  expect(member.body.messages.map((m: { content: string }) => m.content)).toEqual(['private words']);
  const outsider = await get(`/api/v1/conversations/${room.id}/messages`, await system.token(system.user('hc')));
  expect(outsider.status).toBe(403);
  const missing = await get(`/api/v1/conversations/no-such-room/messages`, await system.token(system.user('hc')));
  expect(missing.status).toBe(403);
  expect(missing.body).toEqual(outsider.body);
});
