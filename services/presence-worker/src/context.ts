import type { WorkerContext } from '@lomi/worker-runtime';
import type { PresenceWorkerConfig } from './config';
import type { Metrics } from './metrics';

export type PresenceContext = WorkerContext<PresenceWorkerConfig, Metrics>;
