import { bySortedSetOrder, type MemoryNamespace } from '@lomi/hot-state';
import type { WebhookJob, WebhookQueue } from './webhook-queue';

export function createMemoryWebhookQueue(memory: MemoryNamespace): WebhookQueue {
  const { due, jobs } = memory.part('webhook-queue', () => ({
    /** Job id → when it is due (Unix ms); a lease moves it later. */
    due: new Map<string, number>(),
    jobs: new Map<string, WebhookJob>(),
  }));
  return {
    async schedule(job, dueAtMs) {
      jobs.set(job.id, { ...job });
      due.set(job.id, dueAtMs);
    },
    // Synchronous from the read of what is due to the last lease, so no other claim comes between.
    async claim(nowMs, leaseUntilMs, max) {
      const ids = [...due]
        .filter(([, at]) => at <= nowMs)
        .sort(bySortedSetOrder)
        .slice(0, max)
        .map(([id]) => id);
      const claimed: WebhookJob[] = [];
      for (const id of ids) {
        const job = jobs.get(id);
        if (job) {
          due.set(id, leaseUntilMs);
          claimed.push({ ...job });
        } else {
          // Finished by a worker whose lease had run out.
          due.delete(id);
        }
      }
      return claimed;
    },
    async remove(id) {
      due.delete(id);
      jobs.delete(id);
    },
  };
}
