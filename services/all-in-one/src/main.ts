// Every service in one process, for development and the README's "run the system" command:
// the gateway (WebSocket + HTTP on PORT), a message worker, a presence worker and a moderation
// worker, each with /metrics, /healthz and /readyz on its default port (gateway 9463, workers
// 9464, 9465 and 9466; METRICS_PORT moves the message worker's), against NATS, Redis and
// Postgres at their default local addresses. Production runs each service as its own deployment.
import { createLogger, DEV_CREDENTIALS, runService } from '@lomi/common';
import { loadGatewayConfig, startGateway } from '@lomi/gateway';
import { loadMessageWorkerConfig, startMessageWorker } from '@lomi/message-worker';
import { loadModerationWorkerConfig, startModerationWorker } from '@lomi/moderation-worker';
import { loadPresenceWorkerConfig, startPresenceWorker } from '@lomi/presence-worker';

runService('lomi-chat', async () => {
  const env = { ...process.env };
  const log = createLogger('all-in-one', env.LOG_LEVEL ?? 'info');
  for (const [name, value] of Object.entries(DEV_CREDENTIALS)) {
    if (!env[name] && !(name === 'JWT_SECRET' && env.JWT_PUBLIC_KEY)) {
      env[name] = value;
      log.warn(`${name} is not set: using the development default "${value}" (never do this in production)`);
    }
  }
  const workerConfig = loadMessageWorkerConfig(env);
  const worker = await startMessageWorker(workerConfig, createLogger('message-worker', workerConfig.LOG_LEVEL));
  // METRICS_PORT is the message worker's here; the other services keep their defaults.
  const presenceConfig = loadPresenceWorkerConfig({ ...env, METRICS_PORT: undefined });
  const presence = await startPresenceWorker(presenceConfig, createLogger('presence-worker', presenceConfig.LOG_LEVEL));
  const moderationConfig = loadModerationWorkerConfig({ ...env, METRICS_PORT: undefined });
  const moderation = await startModerationWorker(moderationConfig, createLogger('moderation-worker', moderationConfig.LOG_LEVEL));
  const gateway = await startGateway(loadGatewayConfig({ ...env, METRICS_PORT: undefined }));
  log.info(
    {
      ws: `ws://localhost:${gateway.port}/api/v1/ws/chat`,
      gatewayMetrics: gateway.metricsPort,
      workerMetrics: worker.metricsPort,
      presenceMetrics: presence.metricsPort,
      moderationMetrics: moderation.metricsPort,
    },
    'Lomi Chat is running',
  );
  return {
    async stop() {
      await gateway.stop();
      await worker.stop();
      await presence.stop();
      await moderation.stop();
    },
  };
});
