// A service of its own so it scales and fails independently of message handling.
import { runService } from '@lomi/common';
import { loadModerationWorkerConfig } from './config';
import { startModerationWorker } from './moderation-worker';

runService('moderation-worker', () => startModerationWorker(loadModerationWorkerConfig()));
