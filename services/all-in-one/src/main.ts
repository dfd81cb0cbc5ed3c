// Every service in one process, for development and the README's "run the system" command:
// the gateway (WebSocket + HTTP on PORT) and a message worker (metrics on METRICS_PORT),
// against NATS, Redis and Postgres at their default local addresses. Production runs each
// service as its own deployment.
import { createLogger, runService, serveMetrics } from '@lomi/common';
import { loadGatewayConfig, startGateway } from '@lomi/gateway';
import { loadMessageWorkerConfig, startMessageWorker } from '@lomi/message-worker';

/** Development-only credentials, used when none are configured so a fresh clone runs at once. */
const DEV_DEFAULTS = {
  JWT_SECRET: 'lomi-dev-only-jwt-secret-change-me-0000',
  SERVICE_TOKEN: 'lomi-dev-only-service-token-change-me',
};

runService('lomi-chat', async () => {
  const env = { ...process.env };
  const log = createLogger('all-in-one', env.LOG_LEVEL ?? 'info');
  for (const [name, value] of Object.entries(DEV_DEFAULTS)) {
    if (!env[name] && !(name === 'JWT_SECRET' && env.JWT_PUBLIC_KEY)) {
      env[name] = value;
      log.warn(`${name} is not set: using the development default "${value}" (never do this in production)`);
    }
  }
  const workerConfig = loadMessageWorkerConfig(env);
  const worker = await startMessageWorker(workerConfig, createLogger('message-worker', workerConfig.LOG_LEVEL));
  const gateway = await startGateway(loadGatewayConfig(env));
  const metrics = await serveMetrics(worker.registry, workerConfig.METRICS_PORT);
  log.info({ ws: `ws://localhost:${gateway.port}/api/v1/ws/chat`, workerMetrics: metrics.port }, 'Lomi Chat is running');
  return {
    async stop() {
      await gateway.stop();
      await worker.stop();
      await metrics.close();
    },
  };
});
