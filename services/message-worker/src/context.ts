import type { WorkerContext as Context } from '@lomi/worker-runtime';
import type { MessageWorkerConfig } from './config';
import type { Metrics } from './metrics';

export type WorkerContext = Context<MessageWorkerConfig, Metrics>;
