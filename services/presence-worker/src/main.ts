// A service of its own so it scales and fails independently of message handling.
import { runService, serveMetrics } from '@lomi/common';
import { loadPresenceWorkerConfig } from './config';
import { startPresenceWorker } from './presence-worker';

runService('presence-worker', async () => {
  const config = loadPresenceWorkerConfig();
  const worker = await startPresenceWorker(config);
  const metrics = await serveMetrics(worker.registry, config.METRICS_PORT);
  return {
    async stop() {
      await worker.stop();
      await metrics.close();
    },
  };
});
