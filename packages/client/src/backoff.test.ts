import { Backoff, fullJitter } from './backoff';

test('full jitter: a random wait below a window that doubles per attempt up to the maximum', () => {
  const almostOne = () => 0.999;
  expect([1, 2, 3, 4, 5, 6].map((n) => Math.round(fullJitter(n, 100, 1000, almostOne)))).toEqual([100, 200, 400, 799, 999, 999]);
  expect(fullJitter(3, 100, 1000, () => 0)).toBe(0);
});

test('the attempt count starts over after reset()', () => {
  const backoff = new Backoff({ windowMs: 100, maxMs: 1000, random: () => 0.5 });
  expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([
    { attempt: 1, delayMs: 50 },
    { attempt: 2, delayMs: 100 },
    { attempt: 3, delayMs: 200 },
  ]);
  backoff.reset();
  expect(backoff.next()).toEqual({ attempt: 1, delayMs: 50 });
});
