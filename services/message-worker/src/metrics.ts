import { createCommandSeconds } from '@lomi/service-runtime';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(registry: Registry) {
  const registers = [registry];
  return {
    commandSeconds: createCommandSeconds(registry),
    messagesStored: new Counter({
      name: 'lomi_messages_stored_total',
      help: 'Messages appended to a room (Redis), by room kind and message kind',
      labelNames: ['room_kind', 'kind'] as const,
      registers,
    }),
    duplicates: new Counter({
      name: 'lomi_message_duplicates_total',
      help: 'Sends answered with an earlier seq because the client_msg_id was already stored',
      registers,
    }),
    rateLimited: new Counter({
      name: 'lomi_messages_rate_limited_total',
      help: 'Live-room sends refused because the sender was over the rate limit',
      registers,
    }),
    slowModeRefused: new Counter({
      name: 'lomi_messages_slow_mode_refused_total',
      help: "Live-room sends refused because the room's slow mode interval had not passed since the sender's last message",
      registers,
    }),
    filtered: new Counter({
      name: 'lomi_messages_filtered_total',
      help: 'Text messages a block list caught, by what was done: refuse (nothing stored) or mask',
      labelNames: ['action'] as const,
      registers,
    }),
    webhookCalls: new Counter({
      name: 'lomi_offline_webhook_calls_total',
      help: 'Offline-webhook calls, by outcome (delivered, retry, given_up)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    rejected: new Counter({
      name: 'lomi_requests_rejected_total',
      help: 'Requests answered with an error, by operation and error code',
      labelNames: ['op', 'code'] as const,
      registers,
    }),
    appendSeconds: new Histogram({
      name: 'lomi_message_append_seconds',
      help: 'Time to append one message to Redis (the Lua script, and any seq lease reset or block reservation it waited for)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    persisted: new Counter({
      name: 'lomi_messages_persisted_total',
      help: 'Outbox entries written to Postgres (duplicates of rows already there included)',
      registers,
    }),
    persistFailures: new Counter({
      name: 'lomi_persist_failures_total',
      help: 'Persister passes that failed and were retried after a back-off',
      registers,
    }),
    deadLetters: new Counter({
      name: 'lomi_persist_dead_letters_total',
      help: 'Outbox entries Postgres can never store (a data error), set aside in persist_dead_letters instead',
      registers,
    }),
    outboxBacklog: new Gauge({
      name: 'lomi_outbox_backlog_messages',
      help: 'Messages stored in Redis but not yet in Postgres in this worker’s outbox shards, as of its persister’s last pass (0 = drained)',
      registers,
    }),
    outboxShards: new Gauge({
      name: 'lomi_persist_outbox_shards',
      help: 'Outbox work lists (of 64) this worker’s persister drains; summed over live workers, 64',
      registers,
    }),
  };
}
