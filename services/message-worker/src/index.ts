export { startMessageWorker, type MessageWorker } from './worker';
export { loadMessageWorkerConfig, messageWorkerEnv, type MessageWorkerConfig } from './config';
export { createWebhookQueue, type WebhookJob, type WebhookQueue } from './webhook-queue';
export {
  createOutbox,
  createRoomLog,
  decodeEntry,
  DEDUP_TTL_SECONDS,
  type AppendReply,
  type AppendRequest,
  type Deletion,
  type HeldState,
  type LeasePlan,
  type LogEntry,
  type Outbox,
  type OutboxUpTo,
  type RoomLog,
  type RoomLogSettings,
  type RoomState,
} from './room-log';
// The memory room log's state, for contract tests that simulate another incarnation.
export { roomLogOf } from './room-log-memory';
