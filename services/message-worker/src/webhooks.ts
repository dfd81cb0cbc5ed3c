// The offline webhook: when a private message arrives for a member with no live connection, the
// app back end is told (HTTP POST, signed) so it can send an APNs/FCM push.
//
// Never on the send path: the send only queues a job in Redis after its message is stored, and
// every worker's dispatcher drains the queue. The queue is durable (a sorted set of job id → due
// time beside a hash of jobs), so a worker that dies mid-call loses nothing: a claimed job is
// only leased, and comes due again for another worker when the lease runs out. Delivery is
// therefore at least once; webhook-id lets the receiver drop a repeat.
//
// Signed as Standard Webhooks (standardwebhooks.com) do: webhook-signature is
// "v1,<base64 HMAC-SHA256 of `${webhook-id}.${webhook-timestamp}.${body}`>", so the id and the
// time are covered with the body; a receiver refuses a timestamp more than 5 minutes from its
// clock (README) and an id it has already seen, so a captured request cannot be replayed later.
import { createHmac } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { int64Json, MessageKind, type lomi } from '@lomi/protocol';
import { randomId } from '@lomi/common';
import type { PresenceReader } from '@lomi/presence';
import type { Result } from 'ioredis';
import type { WorkerContext } from './context';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lomiClaimWebhooks(dueKey: string, jobsKey: string, now: number, leaseUntil: number, max: number): Result<string[], Context>;
  }
}

// KEYS: due, jobs. ARGV: now, lease end, most jobs. Leases and returns the due jobs; a due id
// whose job is gone (finished by a worker whose lease had run out) is dropped.
const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local jobs = {}
for _, id in ipairs(ids) do
  local job = redis.call('HGET', KEYS[2], id)
  if job then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(jobs, job)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return jobs
`;

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

interface Job {
  id: string;
  /** The exact bytes that are signed and sent. */
  body: string;
  /** Calls made so far. */
  attempts: number;
}

function preview(message: lomi.chat.v1.ChatMessage): string {
  if (message.kind === MessageKind.MESSAGE_KIND_GIFT) return `sent ${message.gift?.count ?? 0} × ${message.gift?.giftId ?? 'gift'}`;
  const chars = [...message.content];
  return chars.length > PREVIEW_MAX ? `${chars.slice(0, PREVIEW_MAX - 1).join('')}…` : message.content;
}

export type OfflineNotifier = ReturnType<typeof startOfflineWebhooks>;

/** Queues webhook calls for offline recipients and (in every worker) makes them. */
export function startOfflineWebhooks(ctx: WorkerContext, presence: PresenceReader) {
  const { redis, keys, config, log, metrics } = ctx;
  const url = config.OFFLINE_WEBHOOK_URL;
  const secret = config.OFFLINE_WEBHOOK_SECRET ?? '';
  const stopping = new AbortController();
  const queuing = new Set<Promise<void>>();
  redis.defineCommand('lomiClaimWebhooks', { numberOfKeys: 2, lua: CLAIM });

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
    const job: Job = { id: randomId(), body, attempts: 0 };
    await redis.multi().hset(keys.webhookJobs, job.id, JSON.stringify(job)).zadd(keys.webhookDue, Date.now(), job.id).exec();
  }

  async function call(job: Job): Promise<void> {
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
      await redis.multi().zrem(keys.webhookDue, job.id).hdel(keys.webhookJobs, job.id).exec();
      return;
    }
    metrics.webhookCalls.inc({ outcome: 'retry' });
    const backoff = Math.min(config.OFFLINE_WEBHOOK_BACKOFF_MS * 2 ** (attempts - 1), BACKOFF_MAX_MS);
    await redis
      .multi()
      .hset(keys.webhookJobs, job.id, JSON.stringify({ ...job, attempts }))
      .zadd(keys.webhookDue, Date.now() + backoff, job.id)
      .exec();
  }

  const running = (async () => {
    if (!url) return;
    // A claimed job comes due again if this worker has not finished it by then.
    const leaseMs = config.OFFLINE_WEBHOOK_TIMEOUT_MS + 5000;
    while (!stopping.signal.aborted) {
      let jobs: string[] = [];
      try {
        const now = Date.now();
        jobs = await redis.lomiClaimWebhooks(keys.webhookDue, keys.webhookJobs, now, now + leaseMs, CLAIM_BATCH);
        await Promise.all(jobs.map((job) => call(JSON.parse(job) as Job)));
      } catch (err) {
        log.warn({ err }, 'offline webhooks: Redis failed; leased jobs come due again');
      }
      if (jobs.length < CLAIM_BATCH) await delay(POLL_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  })();

  return {
    /** Queues a webhook call if `recipientId` has no live connection; returns at once, never throws. */
    notify(message: lomi.chat.v1.ChatMessage, recipientId: string): void {
      if (!url) return;
      const done = enqueue(message, recipientId)
        .catch((err: unknown) => log.warn({ err, message: message.id }, 'could not queue an offline webhook'))
        .finally(() => queuing.delete(done));
      queuing.add(done);
    },

    /** Finishes the calls in hand and stops; queued jobs stay for the other workers. */
    async stop(): Promise<void> {
      stopping.abort();
      await Promise.all(queuing);
      await running;
    },
  };
}
