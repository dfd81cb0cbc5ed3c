// The conversation list's opaque keyset cursor: the last row's activity time and id.
import { unstorable } from '@lomi/validation';
import { badRequest } from './errors';

// The activity time travels in microseconds (Postgres' precision): a cursor rounded to
// milliseconds would skip or repeat conversations at a page boundary.
export type Cursor = [activityUs: string, id: string];

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** The cursor a client sent back ('' = the first page), or BAD_REQUEST. */
export function decodeCursor(text: string): Cursor | undefined {
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    const [activityUs, id] = Array.isArray(parsed) && parsed.length === 2 ? (parsed as unknown[]) : [];
    // The id goes into the query: one Postgres cannot take would fail the page instead of refusing it.
    if (/^\d{1,17}$/.test(String(activityUs)) && typeof id === 'string' && !unstorable(id, 'id')) {
      return parsed as Cursor;
    }
  } catch {
    // falls through to the refusal
  }
  throw badRequest('invalid cursor');
}
