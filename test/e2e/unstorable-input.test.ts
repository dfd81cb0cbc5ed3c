// Text Postgres cannot store (U+0000, lone surrogates) and control characters where they make no
// sense are refused with a client error naming the field — over WebSocket in both encodings,
// over the service API and the read API, and in the token's user id — and change nothing: the
// room's next message still gets the next seq and reaches Postgres.
import { Pool } from 'pg';
import { Encoding, ErrorCode, WS_PATH, type LomiClient, type Room } from '@lomi/client';
import { attemptUpgrade, waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
let pool: Pool;

beforeAll(async () => {
  system = await startSystem({ gateways: 1 });
  pool = new Pool(system.pg);
});
afterAll(async () => {
  await pool.end();
  await system.stop();
});

const badRequest = (field: string, problem: RegExp) =>
  expect.objectContaining({ code: ErrorCode.ERROR_CODE_BAD_REQUEST, message: expect.stringMatching(new RegExp(`${field} ${problem.source}`)) });
const NUL = /contains a control character \(U\+0000\)/;
const LONE = /is not well-formed Unicode \(a lone surrogate\)/;

async function storedContents(room: Room): Promise<string[]> {
  const { rows } = await pool.query<{ content: string }>('select content from messages where room_id = $1 order by seq', [room.id]);
  return rows.map((r) => r.content);
}

/** After refusals: the room's first good message is seq 1, and the only one in Postgres. */
async function expectNothingStored(client: LomiClient, room: Room): Promise<void> {
  const ack = await client.send(room, 'still fine');
  expect(Number(ack.seq)).toBe(1);
  await waitFor(async () => (await storedContents(room)).length === 1, 'the good message in Postgres');
  expect(await storedContents(room)).toEqual(['still fine']);
}

describe.each([Encoding.PROTO, Encoding.JSON])('sends in %s', (encoding) => {
  test('text, client_msg_id and gift id with U+0000 or other controls are refused, naming the field', async () => {
    const host = system.user(`host-${encoding}`);
    const room = await system.createLiveRoom(host);
    const client = await system.connect(system.user(`nul-${encoding}`), { encoding });
    await client.join(room);

    await expect(client.send(room, 'a\u0000b')).rejects.toEqual(badRequest('text', NUL));
    await expect(client.send(room, 'bell\u0007ring')).rejects.toEqual(badRequest('text', /contains a control character \(U\+0007\)/));
    await expect(client.send(room, 'next\u0085line')).rejects.toEqual(badRequest('text', /contains a control character \(U\+0085\)/));
    await expect(client.send(room, 'fine', 'id\u0000')).rejects.toEqual(badRequest('client_msg_id', NUL));
    await expect(client.send(room, 'fine', 'tab\tid')).rejects.toEqual(badRequest('client_msg_id', /contains a control character \(U\+0009\)/));
    await expect(client.sendGift(room, 'ro\u0000se', 1)).rejects.toEqual(badRequest('gift.gift_id', NUL));
    await expectNothingStored(client, room);
  });
});

test('a lone surrogate in a JSON frame is refused at the gateway, naming the field', async () => {
  const room = await system.createLiveRoom(system.user('host-lone'));
  const client = await system.connect(system.user('lone'), { encoding: Encoding.JSON });
  await client.join(room);
  await expect(client.send(room, 'half \ud83d of an emoji')).rejects.toEqual(badRequest('send.text', LONE));
  await expect(client.send(room, 'fine', '\udc00')).rejects.toEqual(badRequest('send.clientMsgId', LONE));
  await expectNothingStored(client, room);
});

test('message text keeps line breaks and tabs; Windows line breaks become \\n', async () => {
  const room = await system.createLiveRoom(system.user('host-lines'));
  const client = await system.connect(system.user('lines'));
  await client.join(room);
  await client.send(room, 'one\ntwo\tcolumns');
  await client.send(room, 'dos\r\nline\rbreaks');
  await waitFor(async () => (await storedContents(room)).length === 2, 'both in Postgres');
  expect(await storedContents(room)).toEqual(['one\ntwo\tcolumns', 'dos\nline\nbreaks']);
  const { messages } = await client.history(room);
  expect(messages?.map((m) => m.content)).toEqual(['one\ntwo\tcolumns', 'dos\nline\nbreaks']);
});

test('a pin text with U+0000 is refused as a bad request, not as unavailable', async () => {
  const host = system.user('host-pin');
  const room = await system.createLiveRoom(host);
  const client = await system.connect(host);
  await client.join(room);
  await expect(client.pin(room, { text: 'pinned\u0000' })).rejects.toEqual(badRequest('text', NUL));
  expect((await system.api('GET', `/api/v1/live/${room.id}/pinned`)).body.pin).toBeNull();
  await client.pin(room, { text: 'pinned' });
  expect((await system.api('GET', `/api/v1/live/${room.id}/pinned`)).body.pin.message.content).toBe('pinned');
});

test('a conversation cursor holding U+0000 is an invalid cursor', async () => {
  const client = await system.connect(system.user('cursor'));
  const cursor = Buffer.from(JSON.stringify(['1700000000000000', 'id\u0000'])).toString('base64url');
  await expect(client.listConversations({ cursor })).rejects.toEqual(
    expect.objectContaining({ code: ErrorCode.ERROR_CODE_BAD_REQUEST, message: expect.stringMatching(/invalid cursor/) }),
  );
});

describe('the service API', () => {
  test.each([
    ['/api/v1/conversations', { user_a: 'a\u0000', user_b: 'b' }, 'user_a', NUL],
    ['/api/v1/conversations', { user_a: 'a', user_b: 'b\u001b[31m' }, 'user_b', /contains a control character \(U\+001B\)/],
    ['/api/v1/conversations', { user_a: 'a', user_b: '\ud800' }, 'user_b', LONE],
    ['/api/v1/live', { broadcaster_id: 'caster\u0000' }, 'broadcaster_id', NUL],
    ['/api/v1/live', { broadcaster_id: 'caster', id: 'stream\u0000' }, 'stream id', /must be 1–64 characters/],
  ])('POST %s %j → 400 naming the field', async (path, body, field, problem) => {
    const res = await system.api('POST', path, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'BAD_REQUEST', message: expect.stringMatching(new RegExp(`${field} ${problem.source}`)) });
  });

  test('a query parameter with a control character → 400 naming it', async () => {
    const room = await system.createLiveRoom(system.user('host-query'));
    const res = await system.api('GET', `/api/v1/live/${room.id}/messages?limit=%00`);
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'BAD_REQUEST', message: expect.stringMatching(/limit contains a control character \(U\+0000\)/) });
  });
});

/** The HTTP status and body with which the gateway answers an upgrade with `token`. */
function upgrade(token: string) {
  return attemptUpgrade(`${system.wsUrl()}${WS_PATH}`, { headers: { authorization: `Bearer ${token}` } });
}

test('a token whose user id (sub) cannot be stored is refused at the upgrade, saying why', async () => {
  expect(await upgrade(await system.token('eve\u0000'))).toEqual({
    status: 401,
    body: expect.stringMatching(/sub claim \(user id\) contains a control character \(U\+0000\)/),
  });
  expect(await upgrade(await system.token('x'.repeat(129)))).toEqual({ status: 401, body: expect.stringMatching(/sub claim \(user id\) must be 1–128 characters/) });
  expect((await upgrade(await system.token(system.user('ok')))).status).toBe(101);
});
