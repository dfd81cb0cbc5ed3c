import { createCommandSeconds } from '@lomi/service-runtime';
import { Counter, type Registry } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(registry: Registry) {
  const registers = [registry];
  return {
    commandSeconds: createCommandSeconds(registry),
    reports: new Counter({
      name: 'lomi_presence_reports_total',
      help: 'Presence reports received from gateways, by kind',
      labelNames: ['kind'] as const,
      registers,
    }),
    viewerChanges: new Counter({
      name: 'lomi_viewer_changes_total',
      help: 'Distinct viewers arriving in or departing from live rooms (a departure by TTL expiry included)',
      labelNames: ['change'] as const,
      registers,
    }),
    pushes: new Counter({
      name: 'lomi_presence_pushes_total',
      help: 'Ephemeral events published to rooms, by kind (viewers, typing)',
      labelNames: ['kind'] as const,
      registers,
    }),
    systemMessages: new Counter({
      name: 'lomi_join_leave_messages_total',
      help: 'Join/leave system messages asked of the message workers, by outcome',
      labelNames: ['outcome'] as const,
      registers,
    }),
    sessionWriteFailures: new Counter({
      name: 'lomi_viewing_session_write_failures_total',
      help: 'Batches of viewing sessions that Postgres refused or did not answer; retried',
      registers,
    }),
    rejected: new Counter({
      name: 'lomi_presence_requests_rejected_total',
      help: 'Requests answered with an error, by operation and error code',
      labelNames: ['op', 'code'] as const,
      registers,
    }),
  };
}
