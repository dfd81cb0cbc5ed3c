// Bad input gets an error frame and changes nothing; the connection stays usable.
import { randomBytes } from 'node:crypto';
import { Encoding, ErrorCode, LomiError } from '@lomi/client';
import { encodeClientFrame, encodeServerFrame, lomi, type ClientFrame } from '@lomi/protocol';
import { RawSocket, waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 1, messageWorkers: 1 });
});
afterAll(() => system.stop());

function nextError(client: Awaited<ReturnType<TestSystem['connect']>>): Promise<Error> {
  return new Promise((resolve) => {
    const off = client.on('error', (e) => {
      off();
      resolve(e);
    });
  });
}

test.each([
  ['random bytes', Encoding.PROTO, () => randomBytes(64)],
  ['a protobuf of the wrong type', Encoding.PROTO, () => encodeServerFrame({ requestId: 7, error: { code: 1, message: 'x' } }, Encoding.PROTO)],
  ['a text frame in binary mode', Encoding.PROTO, () => 'hello'],
  ['invalid JSON in JSON mode', Encoding.JSON, () => '{"requestId": 1, "send": '],
  ['a JSON array in JSON mode', Encoding.JSON, () => '[1,2,3]'],
  ['a JSON frame with a wrongly typed field', Encoding.JSON, () => '{"requestId": 1, "send": {"room": "live:abc"}}'],
])('%s → error frame, connection usable, nothing stored', async (_name, encoding, payload) => {
  const room = await system.createLiveRoom('b-proto');
  const client = await system.connect('prober', { encoding });
  const joined = await client.join(room);
  const error = nextError(client);
  client.sendRaw(payload());
  const err = await error;
  expect(err).toBeInstanceOf(LomiError);
  expect((err as LomiError).code).toBe(ErrorCode.ERROR_CODE_BAD_REQUEST);
  expect(await client.ping()).toBeGreaterThan(0);
  const history = await client.history(room);
  expect(history.messages ?? []).toHaveLength(0);
  expect(Number(joined.topSeq)).toBe(0);
  await client.close();
});

test('a frame without a command, or with an invalid room, is refused with its request id', async () => {
  const client = await system.connect('prober2');
  await expect(client.request({})).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
  await expect(client.request({ send: { room: { kind: 1, id: 'bad id!' }, clientMsgId: 'c1', text: 'x' } })).rejects.toMatchObject({
    code: ErrorCode.ERROR_CODE_BAD_REQUEST,
  });
  await expect(client.request({ join: { room: { kind: 0, id: 'abc' } } })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
});

test('invalid messages are refused and not stored: empty, too long, without client_msg_id, unknown gift', async () => {
  const room = await system.createLiveRoom('b-validate');
  const client = await system.connect('validator');
  await client.join(room);
  await expect(client.send(room, '   ')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
  await expect(client.send(room, 'x'.repeat(501))).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_TOO_LARGE });
  await expect(client.send(room, 'hi', '')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
  await expect(client.sendGift(room, 'no-such-gift', 1)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
  // 500 characters of a 4-byte emoji is within the limit: length is counted in characters.
  const ok = await client.send(room, '😀'.repeat(500));
  expect(Number(ok.seq)).toBe(1);
  const history = await client.history(room);
  expect(history.messages).toHaveLength(1);
});

test('a gift from the catalogue is stored with its value', async () => {
  const room = await system.createLiveRoom('b-gift');
  const client = await system.connect('gifter');
  await client.join(room);
  await client.sendGift(room, 'rose', 3);
  const [gift] = (await client.history(room)).messages!;
  expect(gift!.kind).toBe(lomi.chat.v1.MessageKind.MESSAGE_KIND_GIFT);
  expect(gift!.gift).toMatchObject({ giftId: 'rose', count: 3 });
  expect(Number(gift!.gift!.value)).toBe(3);
});

describe('frame size', () => {
  test.each([Encoding.PROTO, Encoding.JSON])('a 100 KB send (%s) is answered with TOO_LARGE, nothing is stored, the socket stays open', async (encoding) => {
    const room = await system.createLiveRoom('b-large');
    const socket = await RawSocket.open(system.wsUrl(0), await system.token('large-sender'), encoding);
    const command = (requestId: number, text: string) => ({ requestId, send: { room, clientMsgId: `big-${requestId}`, text } });
    const request = async (frame: ClientFrame & { requestId: number }) => {
      socket.send(encodeClientFrame(frame, encoding));
      return socket.reply(frame.requestId);
    };
    expect((await request({ requestId: 1, join: { room } }))?.joined).toBeDefined();
    const refused = await request(command(2, 'x'.repeat(100 * 1024)));
    expect(refused?.error).toMatchObject({ code: ErrorCode.ERROR_CODE_TOO_LARGE, message: expect.stringMatching(/MAX_FRAME_BYTES/) });
    expect((await request({ requestId: 3, history: { room } }))?.history?.messages ?? []).toHaveLength(0);
    expect((await request(command(4, 'small')))?.ack?.seq).toBe(1);
    expect(socket.closed).toBeUndefined();
    socket.close();
  });

  test('an undecodable oversized frame is TOO_LARGE too; one over the socket limit (MAX_SOCKET_FRAME_BYTES) drops the socket', async () => {
    const socket = await RawSocket.open(system.wsUrl(0), await system.token('huge-sender'), Encoding.PROTO);
    socket.send(randomBytes(20 * 1024));
    await waitFor(() => socket.frames.length === 1, 'the refusal');
    expect(socket.frames[0]!.error?.code).toBe(ErrorCode.ERROR_CODE_TOO_LARGE);
    socket.send(randomBytes(2 * 1024 * 1024));
    await waitFor(() => socket.closed !== undefined, 'the close');
    // uWS drops the connection without a close frame.
    expect(socket.closed?.code).toBe(1006);
  });
});
