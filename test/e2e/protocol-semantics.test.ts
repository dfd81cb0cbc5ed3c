// What chat.proto promises where the code once did otherwise: a keepalive Ping (request_id 0) gets
// no reply, a live send needs a join (NOT_JOINED), and the join reply's viewer count counts the
// joiner. Over the real wire, with raw JSON frames where the SDK would hide the difference.
import { Encoding, ErrorCode } from '@lomi/client';
import { RoomKind } from '@lomi/protocol';
import { RawSocket } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 1 });
});
afterAll(() => system.stop());

async function raw(user: string): Promise<RawSocket> {
  return RawSocket.open(system.wsUrl(0), await system.token(system.user(user)), Encoding.JSON);
}

test('a Ping with request_id 0 gets no reply; one with a request_id gets a Pong', async () => {
  const socket = await raw('pinger');
  socket.send(JSON.stringify({ requestId: 0, ping: {} }));
  socket.send(JSON.stringify({ ping: {} }));
  // A later request answered proves the two keepalives were read (frames are handled in order).
  const pong = await socket.request({ requestId: 5, ping: {} });
  expect(pong?.pong?.serverTimeMs).toBeGreaterThan(0);
  expect(socket.frames).toHaveLength(1);
  socket.close();
});

test('a send to a live room not joined is refused with NOT_JOINED and stores nothing', async () => {
  const room = await system.createLiveRoom(system.user('caster'));
  const socket = await raw('drive-by');
  const refused = await socket.request({ requestId: 1, send: { room, clientMsgId: 'c1', text: 'hello' } });
  expect(refused?.error).toMatchObject({ code: ErrorCode.ERROR_CODE_NOT_JOINED });
  expect(refused?.error?.message).toMatch(/join/);
  // History needs no join; the refused send is not in it.
  const history = await socket.request({ requestId: 2, history: { room } });
  expect(history?.history?.messages ?? []).toHaveLength(0);
  // Once joined the same send is stored; after a leave it is refused again.
  expect((await socket.request({ requestId: 3, join: { room } }))?.joined).toBeDefined();
  expect((await socket.request({ requestId: 4, send: { room, clientMsgId: 'c1', text: 'hello' } }))?.ack?.seq).toBe(1);
  expect((await socket.request({ requestId: 5, leave: { room } }))?.left).toBeDefined();
  expect((await socket.request({ requestId: 6, send: { room, clientMsgId: 'c2', text: 'again' } }))?.error?.code).toBe(ErrorCode.ERROR_CODE_NOT_JOINED);
  socket.close();
});

test('a private room needs no join to send: membership decides', async () => {
  const room = await system.createPrivateRoom(system.user('pa'), system.user('pb'));
  const member = await raw('pa');
  const ack = await member.request({ requestId: 1, send: { room, clientMsgId: 'p1', text: 'hi' } });
  expect(ack?.ack?.seq).toBe(1);
  const outsider = await raw('pc');
  const refused = await outsider.request({ requestId: 1, send: { room, clientMsgId: 'p1', text: 'hi' } });
  expect(refused?.error?.code).toBe(ErrorCode.ERROR_CODE_FORBIDDEN);
  member.close();
  outsider.close();
});

test("the join reply's viewer count includes the joiner, counted once per user", async () => {
  const room = await system.createLiveRoom(system.user('caster2'));
  const first = await system.connect(system.user('v1'));
  expect(Number((await first.join(room)).viewerCount)).toBe(1);
  // Wait until the first viewer's presence is stored, then a second viewer sees two.
  await system.pushes(first).waitFor('viewers', (v) => Number(v.count) === 1 && v.room?.kind === RoomKind.ROOM_KIND_LIVE);
  const second = await system.connect(system.user('v2'));
  expect(Number((await second.join(room)).viewerCount)).toBe(2);
  await system.pushes(first).waitFor('viewers', (v) => Number(v.count) === 2);
  // Another socket of a user already counted does not count them twice.
  const again = await system.connect(system.user('v1'));
  expect(Number((await again.join(room)).viewerCount)).toBe(2);
  await Promise.all([first.close(), second.close(), again.close()]);
});

/** Every key of a parsed JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => (Array.isArray(value) ? keysOf(v) : [k, ...keysOf(v)]));
}

test('JSON frames follow the proto3 JSON mapping: both field-name forms read, lowerCamel written, 64-bit as strings, enums as names', async () => {
  const room = await system.createLiveRoom(system.user('json-host'));
  const socket = await raw('json-names');
  const texts: string[] = [];
  socket.ws.on('message', (data: Buffer) => texts.push(data.toString('utf8')));
  const ask = (frame: Record<string, unknown>, requestId: number) => {
    socket.send(JSON.stringify(frame));
    return socket.reply(requestId);
  };
  expect((await ask({ request_id: 1, join: { room: { kind: 'ROOM_KIND_LIVE', id: room.id } } }, 1))?.joined).toBeDefined();
  expect((await ask({ request_id: 2, send: { room: { kind: 1, id: room.id }, client_msg_id: 'snake', text: 'a' } }, 2))?.ack?.seq).toBe(1);
  expect((await ask({ requestId: 3, send: { room, clientMsgId: 'camel', text: 'b' } }, 3))?.ack?.seq).toBe(2);
  // The snake_case client_msg_id was read: resending it is a duplicate of seq 1.
  expect((await ask({ request_id: 4, send: { room, client_msg_id: 'snake', text: 'a' } }, 4))?.ack).toMatchObject({ seq: 1, duplicate: true });
  // A 64-bit field as a string, under its proto name.
  const page = await ask({ request_id: 5, history: { room, after_seq: '1' } }, 5);
  expect(page?.history?.messages?.map((m) => m.content)).toEqual(['b']);

  const ack = texts.map((t) => JSON.parse(t)).find((f) => f.requestId === 2);
  expect(ack).toEqual({
    requestId: 2,
    ack: { room: { kind: 'ROOM_KIND_LIVE', id: room.id }, seq: '1', id: expect.any(String), createdAtMs: expect.stringMatching(/^\d+$/) },
  });
  for (const text of texts) expect(keysOf(JSON.parse(text)).filter((k) => k.includes('_'))).toEqual([]);
  socket.close();
});
