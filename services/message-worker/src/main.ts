import { runService, serveMetrics } from '@lomi/common';
import { loadMessageWorkerConfig } from './config';
import { startMessageWorker } from './worker';

runService('message-worker', async () => {
  const config = loadMessageWorkerConfig();
  const worker = await startMessageWorker(config);
  const metrics = await serveMetrics(worker.registry, config.METRICS_PORT);
  return {
    async stop() {
      await worker.stop();
      await metrics.close();
    },
  };
});
