import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createRegistry, LATENCY_BUCKETS } from '@lomi/service-runtime';

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

export function createGatewayMetrics(registry: Registry = createRegistry('gateway')) {
  const metrics = {
    registry,
    connections: new Gauge({ name: 'lomi_gateway_connections', help: 'Open WebSocket connections', registers: [registry] }),
    upgrades: new Counter({
      name: 'lomi_gateway_upgrades_total',
      help: 'WebSocket upgrade attempts by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    platformBans: new Gauge({ name: 'lomi_gateway_platform_bans', help: 'Users banned from the platform, as this gateway knows them', registers: [registry] }),
    bannedCloses: new Counter({
      name: 'lomi_gateway_banned_closes_total',
      help: 'Sockets closed with 4403 because their user was banned from the platform',
      registers: [registry],
    }),
    limitRefusals: new Counter({
      name: 'lomi_gateway_limit_refusals_total',
      help: 'Handshakes (HTTP 429) and joins (LIMIT_EXCEEDED) refused by an abuse limit, by limit',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
    roomChannels: new Gauge({ name: 'lomi_gateway_rooms', help: 'Rooms with local members (NATS subscriptions held)', registers: [registry] }),
    framesIn: new Counter({
      name: 'lomi_gateway_frames_in_total',
      help: 'Client frames by command',
      labelNames: ['command'] as const,
      registers: [registry],
    }),
    joinRequests: new Counter({
      name: 'lomi_gateway_join_requests_total',
      help: 'Join requests sent to the message workers, each carrying the joins of one room that came together (compare with lomi_gateway_frames_in_total{command="join"})',
      registers: [registry],
    }),
    commands: new Counter({
      name: 'lomi_gateway_commands_total',
      help: 'Client commands answered, by command and outcome: ok, or the error code sent (RATE_LIMITED, UNAVAILABLE, …)',
      labelNames: ['command', 'outcome'] as const,
      registers: [registry],
    }),
    badFrames: new Counter({ name: 'lomi_gateway_bad_frames_total', help: 'Client frames that could not be decoded', registers: [registry] }),
    commandSeconds: new Histogram({
      name: 'lomi_gateway_command_seconds',
      help: 'Time from a client command to its reply',
      labelNames: ['command', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'lomi_gateway_deliveries_total',
      help: 'Room messages delivered to sockets (message × subscriber)',
      labelNames: ['encoding'] as const,
      registers: [registry],
    }),
    pushFrames: new Counter({
      name: 'lomi_gateway_push_frames_total',
      help: 'Frames of room pushes sent to sockets (frame × subscriber); deliveries ÷ this = messages per frame',
      labelNames: ['encoding'] as const,
      registers: [registry],
    }),
    fanOutDelay: new Histogram({
      name: 'lomi_gateway_fanout_delay_seconds',
      help: 'Age of a room message (since its worker created it, on that host clock) when the gateway wrote it to a group of local sockets (one group in four of a live room): storage, NATS, the batch window and the sweep',
      // Finer than LATENCY_BUCKETS between 50 ms and 1 s, where a busy room's p99 lives (docs/decisions/0027).
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1, 2.5, 5],
      registers: [registry],
    }),
    duplicateMessages: new Counter({
      name: 'lomi_gateway_duplicate_room_messages_total',
      help: 'Room messages received again (already delivered) and dropped',
      registers: [registry],
    }),
    gapFills: new Counter({ name: 'lomi_gateway_gap_fills_total', help: 'Seq gaps fetched from the message workers', registers: [registry] }),
    unrecoverableGaps: new Counter({
      name: 'lomi_gateway_unrecoverable_gaps_total',
      help: 'Seq ranges no longer stored anywhere, skipped',
      registers: [registry],
    }),
    slowConsumers: new Counter({
      name: 'lomi_gateway_slow_consumer_closes_total',
      help: 'Sockets closed because they could not keep up: over their own queue limit (socket) or the largest queues when the gateway as a whole was over its budget (gateway)',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
    bufferBudget: new Gauge({
      name: 'lomi_gateway_buffer_budget_bytes',
      help: 'GATEWAY_BUFFER_BUDGET_BYTES: past it the sockets furthest behind are closed (4001)',
      registers: [registry],
    }),
    bufferedBytes: new Gauge({
      name: 'lomi_gateway_buffered_bytes',
      help: 'Bytes queued to all sockets, waiting for slow readers (at the last sweep)',
      registers: [registry],
    }),
  };
  // Known labels start at 0, so a dashboard and rate() see "none" rather than no series at all.
  for (const limit of ['socket', 'gateway']) metrics.slowConsumers.inc({ limit }, 0);
  return metrics;
}
