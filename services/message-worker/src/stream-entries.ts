// A message in a Redis stream (history or outbox): entry id "<seq>-0", field "m" = the encoded
// ChatMessage without its seq, which readers take from the entry id.
import { chat, type lomi } from '@lomi/protocol';

export type StreamEntry = [id: Buffer, fields: Buffer[]];

export const MESSAGE_FIELD = 'm';

export function entryId(seq: number): string {
  return `${seq}-0`;
}

/** The entry's encoded message (field "m"), or undefined when it has none. */
export function messageBytes([, fields]: StreamEntry): Buffer | undefined {
  const at = fields.findIndex((f, i) => i % 2 === 0 && f.toString() === MESSAGE_FIELD);
  return at < 0 ? undefined : fields[at + 1];
}

export function decodeEntry(entry: StreamEntry): lomi.chat.v1.ChatMessage {
  const [id] = entry;
  const encoded = messageBytes(entry);
  if (!encoded) throw new TypeError(`stream entry ${id.toString()} has no message`);
  const message = chat.ChatMessage.decode(encoded);
  message.seq = Number.parseInt(id.toString(), 10);
  return message;
}
