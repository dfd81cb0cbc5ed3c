import { runService } from '@lomi/common';
import { loadMessageWorkerConfig } from './config';
import { startMessageWorker } from './worker';

runService('message-worker', () => startMessageWorker(loadMessageWorkerConfig()));
