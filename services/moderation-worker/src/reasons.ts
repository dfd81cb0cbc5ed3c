import { badRequest } from '@lomi/errors';
import { storableText } from '@lomi/validation';

const codePoints = (s: string) => [...s].length;

/** A reason a user or the app back end gives (report, ban): storable text, trimmed, at most `max` characters. */
export function reasonText(field: string, value: string, max: number): string {
  const reason = storableText(field, value).trim();
  if (codePoints(reason) > max) throw badRequest(`${field} is longer than ${max} characters`);
  return reason;
}
