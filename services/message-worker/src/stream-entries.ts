// A message in a Redis stream (history or outbox): entry id "<seq>-0", field "m" = the encoded
// ChatMessage without its seq, which readers take from the entry id.
import { chat, type lomi } from '@lomi/protocol';

export type StreamEntry = [id: Buffer, fields: Buffer[]];

export const MESSAGE_FIELD = 'm';

export function entryId(seq: number): string {
  return `${seq}-0`;
}

export function decodeEntry([id, fields]: StreamEntry): lomi.chat.v1.ChatMessage {
  const at = fields.findIndex((f, i) => i % 2 === 0 && f.toString() === MESSAGE_FIELD);
  const encoded = fields[at + 1];
  if (at < 0 || !encoded) throw new TypeError(`stream entry ${id.toString()} has no message`);
  const message = chat.ChatMessage.decode(encoded);
  message.seq = Number.parseInt(id.toString(), 10);
  return message;
}
