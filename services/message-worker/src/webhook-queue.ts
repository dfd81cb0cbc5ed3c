// The seam of the offline webhook queue: jobs by id, each due at a time. Durable across workers:
// a claimed job is only leased, so one whose worker died comes due again when the lease runs out.
import type { HotState } from '@lomi/hot-state';
import { createMemoryWebhookQueue } from './webhook-queue-memory';
import { createRedisWebhookQueue } from './webhook-queue-redis';

export interface WebhookJob {
  id: string;
  /** The exact bytes that are signed and sent. */
  body: string;
  /** Calls made so far. */
  attempts: number;
}

export interface WebhookQueue {
  /** Stores `job` (a new one, or its state after a failed call) due at `dueAtMs`. */
  schedule(job: WebhookJob, dueAtMs: number): Promise<void>;
  /**
   * Leases up to `max` jobs due at `nowMs` until `leaseUntilMs` and returns them, earliest due
   * first; a leased job is claimed by no one else until then.
   */
  claim(nowMs: number, leaseUntilMs: number, max: number): Promise<WebhookJob[]>;
  /** Removes the job (delivered, or given up). */
  remove(id: string): Promise<void>;
}

export function createWebhookQueue(hot: HotState): WebhookQueue {
  return hot.kind === 'redis' ? createRedisWebhookQueue(hot.redis, hot.keys) : createMemoryWebhookQueue(hot.memory);
}
