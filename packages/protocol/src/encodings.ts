// How a generated message goes on the wire in each of the two encodings a client may choose.
import { lomi } from '../generated/lomi';
import JSON_NAMES from '../generated/json-names';
import type { ClientFrame, ServerFrame } from './index';
import { Encoding } from './socket';

export const ENCODINGS: readonly Encoding[] = [Encoding.PROTO, Encoding.JSON];

// The canonical proto3 JSON mapping: enum names, 64-bit integers as strings, no default values.
// The WebSocket JSON encoding and the HTTP APIs both answer in it.
export const toJsonOptions = { enums: String, longs: String, defaults: false } as const;

/** A 64-bit integer (a seq, a count, Unix milliseconds) as the proto3 JSON mapping writes it: a string. */
export function int64Json(value: number | bigint | string): string;
export function int64Json(value: number | bigint | string | null | undefined): string | null;
export function int64Json(value: number | bigint | string | null | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** Thrown when a frame cannot be decoded; the message is safe to show to the sender. */
export class FrameDecodeError extends Error {
  override name = 'FrameDecodeError';
  constructor(
    message: string,
    /** The frame's request_id when it could be read (the refusal answers it), else 0. */
    readonly requestId = 0,
  ) {
    super(message);
  }
}

type Codec<T> = {
  encode(m: T): { finish(): Uint8Array };
  decode(b: Uint8Array): T;
  fromObject(o: Record<string, unknown>): T;
  toObject(m: T, o: typeof toJsonOptions): Record<string, unknown>;
  create(p?: object): T;
};

function encodeWith<T>(codec: Codec<T>, value: object, encoding: Encoding): Uint8Array | string {
  if (encoding === Encoding.JSON) {
    return JSON.stringify(codec.toObject(codec.fromObject(value as Record<string, unknown>), toJsonOptions));
  }
  return codec.encode(codec.create(value)).finish();
}

/**
 * A JSON value's first string that is not Unicode — a lone surrogate, which JSON can spell
 * ("\ud800") where binary protobuf cannot (its decoder refuses invalid UTF-8) — named by its
 * path, e.g. "send.text is not well-formed Unicode (a lone surrogate)"; undefined if none.
 */
export function illFormedString(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.isWellFormed() ? undefined : `${path || 'value'} is not well-formed Unicode (a lone surrogate)`;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const problem = illFormedString(item, Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * `value` (parsed JSON of message `type`) with every field under its JSON name: the proto3 JSON
 * mapping lets a parser meet either `request_id` or `requestId`, and fromObject knows only the
 * second. Unknown keys are kept (fromObject ignores them).
 */
export function withJsonNames(value: unknown, type: string): unknown {
  const fields = JSON_NAMES[type];
  if (!fields || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const renamed: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const field = fields[key];
    if (!field) {
      renamed[key] = item;
      continue;
    }
    const [name, nested] = field;
    renamed[name] = nested === null ? item : Array.isArray(item) ? item.map((i) => withJsonNames(i, nested)) : withJsonNames(item, nested);
  }
  return renamed;
}

function decodeWith<T>(codec: Codec<T>, type: string, data: ArrayBuffer | Uint8Array | string, encoding: Encoding): T {
  try {
    if (encoding === Encoding.JSON) {
      const text = typeof data === 'string' ? data : Buffer.from(data as ArrayBuffer).toString('utf8');
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new FrameDecodeError('a JSON frame must be an object');
      }
      const decoded = codec.fromObject(withJsonNames(parsed, type) as Record<string, unknown>);
      const illFormed = illFormedString(parsed);
      // Readable otherwise, so the refusal can answer the request.
      if (illFormed) throw new FrameDecodeError(illFormed, (decoded as { requestId?: number }).requestId ?? 0);
      return decoded;
    }
    if (typeof data === 'string') throw new FrameDecodeError('binary encoding expects binary frames');
    return codec.decode(data instanceof Uint8Array ? data : new Uint8Array(data));
  } catch (err) {
    if (err instanceof FrameDecodeError) throw err;
    throw new FrameDecodeError(`undecodable ${encoding} frame: ${(err as Error).message}`);
  }
}

const ClientFrameCodec = lomi.chat.v1.ClientFrame as unknown as Codec<lomi.chat.v1.ClientFrame>;
const ServerFrameCodec = lomi.chat.v1.ServerFrame as unknown as Codec<lomi.chat.v1.ServerFrame>;

export function encodeServerFrame(frame: ServerFrame, encoding: Encoding): Uint8Array | string {
  return encodeWith(ServerFrameCodec, frame, encoding);
}
export function decodeServerFrame(data: ArrayBuffer | Uint8Array | string, encoding: Encoding): lomi.chat.v1.ServerFrame {
  return decodeWith(ServerFrameCodec, 'lomi.chat.v1.ServerFrame', data, encoding);
}
/**
 * The messages of a decoded batch push, each given the room the batch names once (in place:
 * a spread copy would lose the defaults protobufjs keeps on the prototype).
 */
export function batchMessages(batch: lomi.chat.v1.IMessageBatch): lomi.chat.v1.IChatMessage[] {
  const messages = batch.messages ?? [];
  for (const m of messages) m.room ??= batch.room;
  return messages;
}

export function encodeClientFrame(frame: ClientFrame, encoding: Encoding): Uint8Array | string {
  return encodeWith(ClientFrameCodec, frame, encoding);
}
export function decodeClientFrame(data: ArrayBuffer | Uint8Array | string, encoding: Encoding): lomi.chat.v1.ClientFrame {
  return decodeWith(ClientFrameCodec, 'lomi.chat.v1.ClientFrame', data, encoding);
}
