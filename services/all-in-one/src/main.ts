// Every service in one process, for development and the README's "run the system" command:
// the gateway (WebSocket + HTTP on PORT) and a message worker, against NATS, Redis and Postgres
// at their default local addresses. Production runs each service as its own deployment.
import { createLogger, serveMetrics } from '@lomi/common';
import { loadGatewayConfig, startGateway } from '@lomi/gateway';
import { loadMessageWorkerConfig, startMessageWorker } from '@lomi/message-worker';

/** Development-only credentials, used when none are configured so a fresh clone runs at once. */
const DEV_DEFAULTS = {
  JWT_SECRET: 'lomi-dev-only-jwt-secret-change-me-0000',
  SERVICE_TOKEN: 'lomi-dev-only-service-token-change-me',
};

async function main(): Promise<void> {
  const env = { ...process.env };
  const log = createLogger('all-in-one', env.LOG_LEVEL ?? 'info');
  for (const [name, value] of Object.entries(DEV_DEFAULTS)) {
    if (!env[name] && !(name === 'JWT_SECRET' && env.JWT_PUBLIC_KEY)) {
      env[name] = value;
      log.warn(`${name} is not set: using the development default "${value}" (never do this in production)`);
    }
  }
  const worker = await startMessageWorker(loadMessageWorkerConfig(env), log.child({ service: 'message-worker' }));
  const gateway = await startGateway(loadGatewayConfig(env), log.child({ service: 'gateway' }));
  const metrics = await serveMetrics(worker.registry, Number(env.WORKER_METRICS_PORT ?? 9464));
  log.info({ ws: `ws://localhost:${gateway.port}/api/v1/ws/chat`, workerMetrics: metrics.port }, 'Lomi Chat is running');

  const shutdown = () => {
    log.info('shutting down');
    gateway
      .stop()
      .then(() => worker.stop())
      .then(() => metrics.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: Error) => {
  console.error(`Lomi Chat failed to start: ${err.message}`);
  process.exit(1);
});
