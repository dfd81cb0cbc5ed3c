import { randomFillSync } from 'node:crypto';

// Ids are cut from a pool refilled 4 KB at a time, as Node's randomUUID does: a message worker
// makes two random values per send (the message id, and an epoch in case the room has none), and
// asking OpenSSL for 8–16 bytes each time was 3% of its time at 500 msg/s (its CPU profile).
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/** Random, URL-safe and within ROOM_ID_PATTERN: 16 bytes give 22 characters. */
export function randomId(bytes = 16): string {
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const id = pool.toString('base64url', used, used + bytes);
  used += bytes;
  return id;
}
