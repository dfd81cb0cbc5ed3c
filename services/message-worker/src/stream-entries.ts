// A message in a Redis stream (history or outbox): entry id "<seq>-0", field "m" = the encoded
// ChatMessage without its seq, which readers take from the entry id.
import type { LogEntry } from './room-log';

export type StreamEntry = [id: Buffer, fields: Buffer[]];

export const MESSAGE_FIELD = 'm';

export function entryId(seq: number): string {
  return `${seq}-0`;
}

/** The stream entry as a log entry: its seq, and its encoded message (field "m") if it has one. */
export function logEntryOf([id, fields]: StreamEntry): LogEntry {
  const at = fields.findIndex((f, i) => i % 2 === 0 && f.toString() === MESSAGE_FIELD);
  return { seq: Number.parseInt(id.toString(), 10), bytes: at < 0 ? undefined : fields[at + 1] };
}
