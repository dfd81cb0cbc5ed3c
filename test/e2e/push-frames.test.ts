// The gateway builds a busy room's pushes from messages encoded once each (push-frames.ts). Every
// client decodes them with the generated code of chat.proto, so they must be byte for byte the
// frames the reference encoder makes of the same messages, in both encodings.
import { EncodedMessage, Encoding, encodePush, encodeServerFrame, lomi, MessageKind, RoomKind, type ChatMessage } from '@lomi/protocol';

const room = { kind: RoomKind.ROOM_KIND_LIVE, id: 'stream_42-x' };

function message(seq: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return {
    room,
    seq,
    id: `id-${seq}`,
    senderId: `viewer-${seq % 7}`,
    kind: MessageKind.MESSAGE_KIND_TEXT,
    content: `message ${seq} `.padEnd(40 + (seq % 90), 'x'),
    createdAtMs: 1_796_195_028_155 + seq,
    clientMsgId: `c-${seq}`,
    ...extra,
  };
}

const messages: ChatMessage[] = [
  ...Array.from({ length: 30 }, (_, i) => message(i + 1)),
  // A seq past 2^32, a gift, text outside ASCII, a message with fields left unset.
  message(2 ** 40),
  message(31, { kind: MessageKind.MESSAGE_KIND_GIFT, content: '', gift: { giftId: 'rose', count: 3, value: 30 } }),
  message(32, { content: 'héllo 😀 — 你好' }),
  { room, seq: 33, content: 'bare' },
  // 200 messages make a frame over 16 KB, so its length prefix takes three bytes.
  ...Array.from({ length: 200 }, (_, i) => message(100 + i)),
];

const decoded = (data: Uint8Array | string, encoding: Encoding) =>
  lomi.chat.v1.ServerFrame.toObject(
    encoding === Encoding.PROTO
      ? lomi.chat.v1.ServerFrame.decode(data as Uint8Array)
      : lomi.chat.v1.ServerFrame.fromObject(JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'))),
    { longs: Number },
  );

describe.each([Encoding.PROTO, Encoding.JSON])('in %s', (encoding) => {
  const reference = (frame: lomi.chat.v1.IServerFrame) => Buffer.from(encodeServerFrame(frame, encoding));

  test.each([1, 2, 5, 34, messages.length])('a push of %i messages is the reference encoding of that frame', (count) => {
    const run = messages.slice(0, count);
    const pushed = Buffer.from(
      encodePush(
        room,
        run.map((m) => new EncodedMessage(m)),
        encoding,
      ),
    );
    const frame = count === 1 ? { message: run[0]! } : { batch: { room, messages: run.map((m) => ({ ...m, room: null })) } };
    expect(pushed.equals(reference(frame))).toBe(true);
    // And what a client decodes from it: the batch names the room once, its messages none.
    const got = decoded(pushed, encoding);
    if (count === 1) expect(got.message).toMatchObject({ seq: run[0]!.seq, room: { id: room.id } });
    else {
      expect(got.batch.room).toMatchObject({ id: room.id });
      expect(got.batch.messages.map((m: { seq: number }) => m.seq)).toEqual(run.map((m) => m.seq));
      expect(got.batch.messages.every((m: { room?: unknown }) => m.room === undefined)).toBe(true);
    }
  });

  test('a message encoded once serves pushes of different runs', () => {
    const encoded = messages.slice(0, 10).map((m) => new EncodedMessage(m));
    for (const [from, to] of [
      [0, 10],
      [3, 7],
      [9, 10],
    ] as const) {
      const run = messages.slice(from, to);
      const frame = run.length === 1 ? { message: run[0]! } : { batch: { room, messages: run.map((m) => ({ ...m, room: null })) } };
      expect(Buffer.from(encodePush(room, encoded.slice(from, to), encoding)).equals(reference(frame))).toBe(true);
    }
  });

  test('a message counts its bytes in the encoding it is sent in', () => {
    const m = new EncodedMessage(messages[32]!);
    const element = encoding === Encoding.PROTO ? lomi.chat.v1.ChatMessage.encode({ ...messages[32]!, room: null }).finish() : Buffer.from(m.jsonText());
    expect(m.size(encoding)).toBe(element.length);
  });
});
