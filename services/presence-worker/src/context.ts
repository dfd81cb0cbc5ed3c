import type { WorkerContext } from '@lomi/rooms';
import type { PresenceWorkerConfig } from './config';
import type { Metrics } from './metrics';

export type PresenceContext = WorkerContext<PresenceWorkerConfig, Metrics>;
