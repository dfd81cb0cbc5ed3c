// A service of its own so it scales and fails independently of message handling.
import { runService, serveMetrics } from '@lomi/common';
import { loadModerationWorkerConfig } from './config';
import { startModerationWorker } from './moderation-worker';

runService('moderation-worker', async () => {
  const config = loadModerationWorkerConfig();
  const worker = await startModerationWorker(config);
  const metrics = await serveMetrics(worker.registry, config.METRICS_PORT);
  return {
    async stop() {
      await worker.stop();
      await metrics.close();
    },
  };
});
