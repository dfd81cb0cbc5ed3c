export { startPresenceWorker, type PresenceWorker } from './presence-worker';
export { loadPresenceWorkerConfig, presenceWorkerEnv, type PresenceWorkerConfig } from './config';
export { USERS_PER_SCRIPT } from '@lomi/presence';
