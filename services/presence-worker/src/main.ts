// A service of its own so it scales and fails independently of message handling.
import { runService } from '@lomi/service-runtime';
import { loadPresenceWorkerConfig } from './config';
import { startPresenceWorker } from './presence-worker';

runService('presence-worker', () => startPresenceWorker(loadPresenceWorkerConfig()));
