import { runService } from '@lomi/service-runtime';
import { loadMessageWorkerConfig } from './config';
import { startMessageWorker } from './worker';

runService('message-worker', () => startMessageWorker(loadMessageWorkerConfig()));
