import { createCommandSeconds } from '@lomi/common';
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
    rejected: new Counter({
      name: 'lomi_moderation_requests_rejected_total',
      help: 'Requests answered with an error, by operation and error code',
      labelNames: ['op', 'code'] as const,
      registers,
    }),
  };
}
