// The one rule for text a client or the app back end gives us to store: Postgres refuses U+0000
// (and jsonb a lone surrogate), and a stored message it refuses would stall its room's
// persistence, so such text is refused up front with the field named. Control characters have
// no place in an id or a name; message text may break lines and tab.
import { badRequest } from '@lomi/errors';

/** Longest user id (JWT `sub`, service API user fields), in UTF-16 units. */
export const USER_ID_MAX = 128;

/** What may be in the text: `text` for free text (line breaks and tabs allowed), `id` for ids and names. */
export type TextKind = 'text' | 'id';

// C0 controls, DEL and C1 controls; free text keeps tab (U+0009) and line feed (U+000A).
/* eslint-disable no-control-regex -- matching control characters is the point */
const CONTROL: Record<TextKind, RegExp> = {
  text: /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/,
  id: /[\u0000-\u001F\u007F-\u009F]/,
};
/* eslint-enable no-control-regex */

const hex = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `value` cannot be stored as `kind` (e.g. "contains a control character (U+0000)"), or undefined. */
export function unstorable(value: string, kind: TextKind): string | undefined {
  if (!value.isWellFormed()) return 'is not well-formed Unicode (a lone surrogate)';
  const control = CONTROL[kind].exec(value)?.[0];
  if (control !== undefined) return `contains a control character (${hex(control)})`;
  return undefined;
}

/**
 * Free text as stored: Windows and old-Mac line breaks become "\n" (clearly the same text), then
 * the rule above; throws BAD_REQUEST naming `field`.
 */
export function storableText(field: string, value: string): string {
  const text = value.replace(/\r\n?/g, '\n');
  const problem = unstorable(text, 'text');
  if (problem) throw badRequest(`${field} ${problem}`);
  return text;
}

/** An id, name or cursor as given, or BAD_REQUEST naming `field`. */
export function storableId(field: string, value: string): string {
  const problem = unstorable(value, 'id');
  if (problem) throw badRequest(`${field} ${problem}`);
  return value;
}

/** Why `value` is not a usable user id (1–USER_ID_MAX storable characters), or undefined. */
export function userIdProblem(value: string): string | undefined {
  if (!value || value.length > USER_ID_MAX) return `must be 1–${USER_ID_MAX} characters`;
  return unstorable(value, 'id');
}

/** A user id given by the app back end, or BAD_REQUEST naming `field`. */
export function storableUserId(field: string, value: string): string {
  const problem = userIdProblem(value);
  if (problem) throw badRequest(`${field} ${problem}`);
  return value;
}
