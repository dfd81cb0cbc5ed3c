// The rate limit's arithmetic (GCRA on the sender's theoretical arrival time, TAT), as the append
// script in room-log-redis.ts computes it in Lua; the memory room log uses this.

/** What one send does to the sender's TAT: allowed with the TAT to store, or refused with the wait. */
export type GcraVerdict = { allowed: true; tat: number; ttlMs: number } | { allowed: false; retryAfterMs: number };

/**
 * One send at `now` (µs) against the stored TAT (µs, undefined when none), with an emission
 * interval of `interval` µs and `burst` sends at once. `ttlMs` is how long the new TAT matters.
 */
export function gcra(storedTat: number | undefined, now: number, interval: number, burst: number): GcraVerdict {
  const tat = Math.max(storedTat ?? 0, now);
  // Allowed while the TAT is less than burst intervals ahead of now.
  const allowAt = tat + interval - interval * burst;
  if (now < allowAt) return { allowed: false, retryAfterMs: Math.ceil((allowAt - now) / 1000) };
  const next = tat + interval;
  return { allowed: true, tat: next, ttlMs: Math.ceil((next - now) / 1000) + 1 };
}
