// Live-room rate limit: GCRA in Redis, shared by every worker. A viewer sending at twice the
// rate gets exactly burst + rate × duration through; the rest is refused with RATE_LIMITED and a
// retry time, and never stored. The broadcaster is exempt, and a retried send is not charged.
import { ErrorCode, LomiError } from '@lomi/client';
import { startSystem, type TestSystem } from '../support/system';

const RATE = 5;
const BURST = 5;
let system: TestSystem;

beforeAll(async () => {
  // Two workers and two gateways: the limit holds across all of them.
  system = await startSystem({ gateways: 2, messageWorkers: 2, env: { LIVE_RATE_PER_S: String(RATE), LIVE_RATE_BURST: String(BURST) } });
});
afterAll(() => system.stop());

test('a viewer sending at twice the rate gets burst + rate × duration through; the rest is refused and not stored', async () => {
  const room = await system.createLiveRoom(system.user('rl-host'));
  const viewer0 = await system.connect(system.user('rl-viewer'), { gateway: 0 });
  const viewer1 = await system.connect(system.user('rl-viewer'), { gateway: 1 });
  await viewer0.join(room);
  await viewer1.join(room);

  const durationMs = 4000;
  const intervalMs = 1000 / (2 * RATE);
  const started = Date.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i * intervalMs < durationMs; i++) {
    const due = started + i * intervalMs;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    // Alternating gateways (and so workers): one limit per user per room, wherever they send.
    sends.push((i % 2 ? viewer1 : viewer0).send(room, `m-${i}`));
  }
  const outcomes = await Promise.allSettled(sends);
  const accepted = outcomes.filter((o) => o.status === 'fulfilled').length;
  const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as LomiError] : []));

  const expected = BURST + (RATE * (sends.length - 1) * intervalMs) / 1000;
  expect(Math.abs(accepted - expected)).toBeLessThanOrEqual(2);
  expect(accepted + refused.length).toBe(sends.length);
  for (const err of refused) {
    expect(err).toBeInstanceOf(LomiError);
    expect(err.code).toBe(ErrorCode.ERROR_CODE_RATE_LIMITED);
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect(err.retryAfterMs).toBeLessThanOrEqual(1000 / RATE);
  }
  const stored = await viewer0.history(room, { limit: 200 });
  expect(stored.messages).toHaveLength(accepted);
});

test('the broadcaster is exempt, and a retried send of a stored message is not refused', async () => {
  const host = system.user('rl-host2');
  const room = await system.createLiveRoom(host);
  const broadcaster = await system.connect(host);
  await broadcaster.join(room);
  const acks = await Promise.all(Array.from({ length: 4 * BURST }, (_, i) => broadcaster.send(room, `host-${i}`)));
  expect(acks.every((a) => !a.duplicate)).toBe(true);

  const viewer = await system.connect(system.user('rl-retrier'));
  await viewer.join(room);
  const first = await viewer.send(room, 'first', 'retry-me');
  // Sent at once, so that a slow machine cannot refill the bucket between them.
  const burst = await Promise.allSettled(Array.from({ length: BURST + 2 }, (_, i) => viewer.send(room, `fill-${i}`)));
  const refused = burst.flatMap((o) => (o.status === 'rejected' ? [o.reason as LomiError] : []));
  expect(refused.length).toBeGreaterThan(0);
  for (const err of refused) expect(err.code).toBe(ErrorCode.ERROR_CODE_RATE_LIMITED);
  const again = await viewer.send(room, 'first', 'retry-me');
  expect(again).toMatchObject({ duplicate: true, seq: first.seq });
});
