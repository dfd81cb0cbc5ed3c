export { startMessageWorker, type MessageWorker } from './worker';
export { loadMessageWorkerConfig, messageWorkerEnv, type MessageWorkerConfig } from './config';
