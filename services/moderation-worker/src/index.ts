export { startModerationWorker, type ModerationWorker } from './moderation-worker';
export { loadModerationWorkerConfig, moderationWorkerEnv, type ModerationWorkerConfig } from './config';
