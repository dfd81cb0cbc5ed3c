// The push that carries a run of one room's messages, built from messages encoded once each. A
// gateway sends a live message in many frames — to every shard of its room, in a batch with
// whatever else arrived — and encoding it again for each of them was over half of what a
// gateway under load allocated (10 MB/s at 5k viewers × 500 msg/s, an allocation profile), and
// its collection a quarter of the gateway's CPU. Here a message is encoded once per encoding and
// a batch is its pieces copied together. The bytes are exactly encodeServerFrame's for the same
// frame (test/e2e/push-frames.test.ts holds them to it).
import { lomi } from '../generated/lomi';
import { encodeServerFrame, toJsonOptions } from './encodings';
import { Encoding } from './socket';
import type { ChatMessage, Room } from './index';

const chat = lomi.chat.v1;

/**
 * The tag of an embedded-message field, read off the generated encoder rather than restated
 * from chat.proto: an empty message in that field encodes as its tag and a zero length.
 */
function tagOf(encodedEmpty: Uint8Array): Buffer {
  return Buffer.from(encodedEmpty.subarray(0, encodedEmpty.length - 1));
}
const SERVER_FRAME_BATCH = tagOf(chat.ServerFrame.encode({ batch: {} }).finish());
const BATCH_MESSAGES = tagOf(chat.MessageBatch.encode({ messages: [{}] }).finish());
const BATCH_ROOM = tagOf(chat.MessageBatch.encode({ room: {} }).finish());

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    length += 1;
  }
  return length;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[pos++] = n;
  return pos;
}

/** A room message, encoded once as a batch carries it: without its room, which the batch names. */
export class EncodedMessage {
  /** The protobuf encoding. */
  readonly proto: Uint8Array;
  private json: string | undefined;
  private jsonBytes: number | undefined;

  constructor(readonly message: ChatMessage) {
    this.proto = chat.ChatMessage.encode({ ...message, room: null }).finish();
  }

  /** The JSON encoding, made when a JSON socket first needs it. */
  jsonText(): string {
    return (this.json ??= JSON.stringify(chat.ChatMessage.toObject(chat.ChatMessage.fromObject({ ...this.message, room: null }), toJsonOptions)));
  }

  /** Bytes it adds to a push in `encoding`. */
  size(encoding: Encoding): number {
    if (encoding === Encoding.PROTO) return this.proto.length;
    return (this.jsonBytes ??= Buffer.byteLength(this.jsonText()));
  }
}

function batchProto(room: Room, messages: readonly EncodedMessage[]): Buffer {
  const roomBytes = chat.Room.encode(room).finish();
  let body = BATCH_ROOM.length + varintLength(roomBytes.length) + roomBytes.length;
  for (const { proto } of messages) body += BATCH_MESSAGES.length + varintLength(proto.length) + proto.length;
  const frame = Buffer.allocUnsafe(SERVER_FRAME_BATCH.length + varintLength(body) + body);
  let pos = SERVER_FRAME_BATCH.copy(frame, 0);
  pos = writeVarint(frame, pos, body);
  for (const { proto } of messages) {
    pos += BATCH_MESSAGES.copy(frame, pos);
    pos = writeVarint(frame, pos, proto.length);
    frame.set(proto, pos);
    pos += proto.length;
  }
  pos += BATCH_ROOM.copy(frame, pos);
  pos = writeVarint(frame, pos, roomBytes.length);
  frame.set(roomBytes, pos);
  return frame;
}

function batchJson(room: Room, messages: readonly EncodedMessage[]): string {
  const roomJson = JSON.stringify(chat.Room.toObject(chat.Room.fromObject(room), toJsonOptions));
  return `{"batch":{"messages":[${messages.map((m) => m.jsonText()).join(',')}],"room":${roomJson}}}`;
}

/**
 * The push of `messages` (consecutive, of `room`) in `encoding`: a `message` push for one, a
 * `batch` for several. JSON comes as its UTF-8 bytes, ready for a text frame to many sockets.
 */
export function encodePush(room: Room, messages: readonly EncodedMessage[], encoding: Encoding): Uint8Array {
  if (messages.length === 1) {
    const frame = encodeServerFrame({ message: messages[0]!.message }, encoding);
    return typeof frame === 'string' ? Buffer.from(frame) : frame;
  }
  return encoding === Encoding.JSON ? Buffer.from(batchJson(room, messages)) : batchProto(room, messages);
}
