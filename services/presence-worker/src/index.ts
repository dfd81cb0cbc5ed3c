export { startPresenceWorker, type PresenceWorker } from './presence-worker';
export { loadPresenceWorkerConfig, presenceWorkerEnv, type PresenceWorkerConfig } from './config';
