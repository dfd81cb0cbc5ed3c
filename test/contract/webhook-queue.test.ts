// The offline webhook queue's contract (@lomi/message-worker WebhookQueue: jobs due at a time,
// claimed with a lease) against Redis and memory.
import { createWebhookQueue, type WebhookJob, type WebhookQueue } from '@lomi/message-worker';
import { hotStateImplementations, openHotState } from '@lomi/testkit';

const job = (id: string, attempts = 0): WebhookJob => ({ id, body: JSON.stringify({ id, preview: 'héllo → 👋' }), attempts });
const ids = (jobs: WebhookJob[]) => jobs.map((j) => j.id);

describe.each(hotStateImplementations)('webhook queue: $name', (impl) => {
  let close: () => Promise<void>;
  let a: WebhookQueue;
  let b: WebhookQueue;

  beforeEach(async () => {
    const opened = await openHotState(impl, 2);
    close = opened.close;
    [a, b] = opened.states.map(createWebhookQueue) as [WebhookQueue, WebhookQueue];
  });
  afterEach(() => close());

  it('claims only what is due, earliest first, up to the most asked for, with the job as stored', async () => {
    expect(await a.claim(10_000, 20_000, 10)).toEqual([]);
    await a.schedule(job('late'), 3_000);
    await a.schedule(job('first'), 1_000);
    await b.schedule(job('second'), 2_000);
    expect(await b.claim(500, 20_000, 10)).toEqual([]);
    expect(await b.claim(2_000, 20_000, 1)).toEqual([job('first')]);
    expect(ids(await a.claim(2_000, 20_000, 10))).toEqual(['second']);
    expect(ids(await a.claim(3_000, 20_000, 10))).toEqual(['late']);
  });

  it('a claimed job is leased: no one claims it again until the lease ends, then it reappears', async () => {
    await a.schedule(job('j'), 1_000);
    expect(ids(await a.claim(1_000, 11_000, 10))).toEqual(['j']);
    expect(await b.claim(10_999, 30_000, 10)).toEqual([]);
    expect(ids(await b.claim(11_000, 21_000, 10))).toEqual(['j']);
    expect(await a.claim(20_000, 30_000, 10)).toEqual([]);
  });

  it('a removed job never comes back; a rescheduled one comes back with its new state when due', async () => {
    await a.schedule(job('done'), 1_000);
    await a.schedule(job('failed'), 1_000);
    const claimed = await a.claim(1_000, 11_000, 10);
    expect(ids(claimed).sort()).toEqual(['done', 'failed']);
    await a.remove('done');
    await a.schedule(job('failed', 1), 5_000);
    expect(await b.claim(4_999, 20_000, 10)).toEqual([]);
    expect(await b.claim(5_000, 20_000, 10)).toEqual([job('failed', 1)]);
    // Past every lease: only the job not removed is there.
    expect(ids(await b.claim(100_000, 200_000, 10))).toEqual(['failed']);
  });

  it('connections claiming concurrently never get the same job, and between them get every one', async () => {
    const all = Array.from({ length: 100 }, (_, i) => `job-${i}`);
    await Promise.all(all.map((id, i) => (i % 2 ? a : b).schedule(job(id), 1_000 + (i % 7))));
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claim(2_000, 12_000, 7)));
    const claimed = claims.flatMap(ids);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.sort()).toEqual([...all].sort());
  });
});
