// Exponential backoff with full jitter: the wait before attempt n is random in
// [0, min(max, window × 2^(n-1))), so the clients of a gateway that went away come back spread out.

export interface BackoffOptions {
  /** The first attempt's window, ms. */
  windowMs: number;
  /** The largest window, ms. */
  maxMs: number;
  /** Math.random, replaceable for tests. */
  random?: () => number;
}

export function fullJitter(attempt: number, windowMs: number, maxMs: number, random: () => number = Math.random): number {
  return random() * Math.min(maxMs, windowMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Counts failed attempts; `reset()` after a connection proved stable starts over at the first
 * window, so one outage after a long good run is not met with the longest wait.
 */
export class Backoff {
  private failures = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** The attempt about to be made, 1-based, and how long to wait before it. */
  next(): { attempt: number; delayMs: number } {
    this.failures += 1;
    return { attempt: this.failures, delayMs: fullJitter(this.failures, this.options.windowMs, this.options.maxMs, this.options.random) };
  }

  reset(): void {
    this.failures = 0;
  }

  get attempts(): number {
    return this.failures;
  }
}
