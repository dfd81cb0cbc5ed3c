import type { WorkerContext as Context } from '@lomi/rooms';
import type { MessageWorkerConfig } from './config';
import type { Metrics } from './metrics';

export type WorkerContext = Context<MessageWorkerConfig, Metrics>;
