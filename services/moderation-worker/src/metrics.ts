import { createCommandSeconds } from '@lomi/service-runtime';
import { Counter, type Registry } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(registry: Registry) {
  const registers = [registry];
  return {
    commandSeconds: createCommandSeconds(registry),
    pinChanges: new Counter({
      name: 'lomi_pin_changes_total',
      help: 'Pins set, removed and expired in live rooms, by change',
      labelNames: ['change'] as const,
      registers,
    }),
    actions: new Counter({
      name: 'lomi_moderation_actions_total',
      help: 'Moderation actions recorded in the moderation log, by action',
      labelNames: ['action'] as const,
      registers,
    }),
    reports: new Counter({ name: 'lomi_message_reports_total', help: 'Messages reported by users (repeats not counted)', registers }),
    rejected: new Counter({
      name: 'lomi_moderation_requests_rejected_total',
      help: 'Requests answered with an error, by operation and error code',
      labelNames: ['op', 'code'] as const,
      registers,
    }),
  };
}
