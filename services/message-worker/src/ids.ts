import { randomBytes } from 'node:crypto';

/** Random, URL-safe and within ROOM_ID_PATTERN: 16 bytes give 22 characters. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
