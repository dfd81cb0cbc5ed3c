// The offline webhook: when a private message arrives for a member with no live connection, the
// app back end is told (HTTP POST, signed) so it can send an APNs/FCM push.
//
// Never on the send path: the send only queues a job (webhook-queue.ts) after its message is
// stored, and every worker's dispatcher drains the queue. The queue is durable, so a worker that
// dies mid-call loses nothing: a claimed job is only leased, and comes due again for another
// worker when the lease runs out. Delivery is therefore at least once; webhook-id lets the
// receiver drop a repeat.
//
// Signed as Standard Webhooks (standardwebhooks.com) do: webhook-signature is
// "v1,<base64 HMAC-SHA256 of `${webhook-id}.${webhook-timestamp}.${body}`>", so the id and the
// time are covered with the body; a receiver refuses a timestamp more than 5 minutes from its
// clock (README) and an id it has already seen, so a captured request cannot be replayed later.
import { createHmac } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { int64Json, MessageKind, type lomi } from '@lomi/protocol';
import { randomId } from '@lomi/validation';
import type { PresenceReader } from '@lomi/presence';
import type { WorkerContext } from './context';
import { createWebhookQueue, type WebhookJob } from './webhook-queue';

/**
 * The Standard Webhooks headers of one call: `webhook-id` (the delivery, the same on every
 * retry), `webhook-timestamp` (Unix seconds of this attempt) and their signature with the body.
 */
export function signatureHeaders(secret: string, id: string, timestampS: number, body: string): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`${id}.${timestampS}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampS), 'webhook-signature': `v1,${signature}` };
}

const POLL_MS = 200;
const CLAIM_BATCH = 50;
const BACKOFF_MAX_MS = 300_000;
const PREVIEW_MAX = 100;

function preview(message: lomi.chat.v1.ChatMessage): string {
  if (message.kind === MessageKind.MESSAGE_KIND_GIFT) return `sent ${message.gift?.count ?? 0} × ${message.gift?.giftId ?? 'gift'}`;
  const chars = [...message.content];
  return chars.length > PREVIEW_MAX ? `${chars.slice(0, PREVIEW_MAX - 1).join('')}…` : message.content;
}

export interface OfflineNotifier {
  /** Queues a webhook call if `recipientId` has no live connection; returns at once, never throws. */
  notify(message: lomi.chat.v1.ChatMessage, recipientId: string): void;
  /** Finishes the calls in hand and stops; queued jobs stay for the other workers. */
  stop(): Promise<void>;
}

/** Queues webhook calls for offline recipients and (in every worker) makes them. */
export function startOfflineWebhooks(ctx: WorkerContext, presence: PresenceReader): OfflineNotifier {
  const { config, log, metrics } = ctx;
  const queue = createWebhookQueue(ctx.hot);
  const url = config.OFFLINE_WEBHOOK_URL;
  const secret = config.OFFLINE_WEBHOOK_SECRET ?? '';
  const stopping = new AbortController();
  const queuing = new Set<Promise<void>>();

  async function enqueue(message: lomi.chat.v1.ChatMessage, recipientId: string): Promise<void> {
    if (await presence.isOnline(recipientId)) return;
    // Named and typed as the HTTP API answers (proto3 JSON mapping: lowerCamel, 64-bit as strings).
    const body = JSON.stringify({
      type: 'message.offline',
      conversationId: message.room?.id ?? '',
      messageId: message.id,
      seq: int64Json(message.seq),
      senderId: message.senderId,
      recipientId,
      preview: preview(message),
      createdAt: new Date(message.createdAtMs).toISOString(),
    });
    await queue.schedule({ id: randomId(), body, attempts: 0 }, Date.now());
  }

  async function call(job: WebhookJob): Promise<void> {
    const attempts = job.attempts + 1;
    let failure: string | undefined;
    try {
      const res = await fetch(url!, {
        method: 'POST',
        body: job.body,
        headers: { 'content-type': 'application/json', ...signatureHeaders(secret, job.id, Math.floor(Date.now() / 1000), job.body) },
        signal: AbortSignal.timeout(config.OFFLINE_WEBHOOK_TIMEOUT_MS),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) failure = `HTTP ${res.status}`;
    } catch (err) {
      failure = (err as Error).message;
    }
    if (failure === undefined || attempts >= config.OFFLINE_WEBHOOK_MAX_ATTEMPTS) {
      if (failure !== undefined) log.warn({ job: job.id, attempts, failure }, 'offline webhook given up');
      metrics.webhookCalls.inc({ outcome: failure === undefined ? 'delivered' : 'given_up' });
      await queue.remove(job.id);
      return;
    }
    metrics.webhookCalls.inc({ outcome: 'retry' });
    const backoff = Math.min(config.OFFLINE_WEBHOOK_BACKOFF_MS * 2 ** (attempts - 1), BACKOFF_MAX_MS);
    await queue.schedule({ ...job, attempts }, Date.now() + backoff);
  }

  const running = (async () => {
    if (!url) return;
    // A claimed job comes due again if this worker has not finished it by then.
    const leaseMs = config.OFFLINE_WEBHOOK_TIMEOUT_MS + 5000;
    while (!stopping.signal.aborted) {
      let jobs: WebhookJob[] = [];
      try {
        const now = Date.now();
        jobs = await queue.claim(now, now + leaseMs, CLAIM_BATCH);
        await Promise.all(jobs.map(call));
      } catch (err) {
        log.warn({ err }, 'offline webhooks: the queue failed; leased jobs come due again');
      }
      if (jobs.length < CLAIM_BATCH) await delay(POLL_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  })();

  return {
    notify(message: lomi.chat.v1.ChatMessage, recipientId: string): void {
      if (!url) return;
      const done = enqueue(message, recipientId)
        .catch((err: unknown) => log.warn({ err, message: message.id }, 'could not queue an offline webhook'))
        .finally(() => queuing.delete(done));
      queuing.add(done);
    },

    async stop(): Promise<void> {
      stopping.abort();
      await Promise.all(queuing);
      await running;
    },
  };
}
