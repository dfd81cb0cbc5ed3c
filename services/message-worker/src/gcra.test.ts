// The rate limit a live room's sender meets: `burst` sends at once, then one per interval.
import { gcra } from './gcra';

const SECOND = 1_000_000; // µs

/** Sends at the given times (µs) from a fresh TAT; each refusal's wait in ms, or 'ok'. */
function run(times: number[], interval: number, burst: number): (number | 'ok')[] {
  let tat: number | undefined;
  return times.map((now) => {
    const verdict = gcra(tat, now, interval, burst);
    if (!verdict.allowed) return verdict.retryAfterMs;
    tat = verdict.tat;
    return 'ok';
  });
}

describe('gcra', () => {
  it('lets a burst through at once and refuses the next send for one interval', () => {
    expect(run([0, 0, 0, 0], SECOND / 2, 3)).toEqual(['ok', 'ok', 'ok', 500]);
  });

  it('admits one more send per interval once the burst is spent', () => {
    const interval = SECOND / 2;
    expect(run([0, 0, 400_000, 500_000, 600_000, 1_000_000], interval, 2)).toEqual(['ok', 'ok', 100, 'ok', 400, 'ok']);
  });

  it('gives an idle sender its whole burst back, and no more', () => {
    expect(run([0, 0, 10 * SECOND, 10 * SECOND, 10 * SECOND], SECOND, 2)).toEqual(['ok', 'ok', 'ok', 'ok', 1000]);
  });

  it('with a burst of one, spaces every send by the interval', () => {
    expect(run([0, 999_999, SECOND, 2 * SECOND - 1], SECOND, 1)).toEqual(['ok', 1, 'ok', 1]);
  });

  it('rounds a wait of part of a millisecond up, so a retry after it is admitted', () => {
    const refused = gcra(SECOND + 1, 0, SECOND, 1);
    expect(refused).toEqual({ allowed: false, retryAfterMs: 1001 });
    expect(gcra(SECOND + 1, 1_001_000, SECOND, 1).allowed).toBe(true);
  });

  it('keeps the new TAT just past the time it still matters', () => {
    expect(gcra(undefined, 5 * SECOND, SECOND / 4, 10)).toEqual({ allowed: true, tat: 5 * SECOND + SECOND / 4, ttlMs: 251 });
    // A TAT already ahead of now moves on from there, not from now.
    expect(gcra(6 * SECOND, 5 * SECOND, SECOND, 3)).toEqual({ allowed: true, tat: 7 * SECOND, ttlMs: 2001 });
  });
});
