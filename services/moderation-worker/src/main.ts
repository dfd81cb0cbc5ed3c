// A service of its own so it scales and fails independently of message handling.
import { runService } from '@lomi/service-runtime';
import { loadModerationWorkerConfig } from './config';
import { startModerationWorker } from './moderation-worker';

runService('moderation-worker', () => startModerationWorker(loadModerationWorkerConfig()));
