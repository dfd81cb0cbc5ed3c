// Every service in one process, for development and the README's "run the system" command:
// the gateway (WebSocket + HTTP on PORT), a message worker, a presence worker and a moderation
// worker, each with /metrics, /healthz and /readyz on its default port (gateway 9463, workers
// 9464, 9465 and 9466; METRICS_PORT moves the message worker's). Without NATS_URL they share an
// in-process bus, without REDIS_URL the hot state is in memory, and without DATABASE_URL the
// durable record is PGlite in LOMI_DATA_DIR (./.lomi-data). Production runs each service as its own
// deployment, always against the servers.
// In development (LOMI_ENV unset) it also serves the demo web client (apps/web) at / with the
// development token routes it logs in with, unless DEV_TOKENS / WEB_CLIENT_DIR say otherwise.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createLogger, DEV_CREDENTIALS, runService } from '@lomi/service-runtime';
import { loadGatewayConfig, startGateway } from '@lomi/gateway';
import { loadMessageWorkerConfig, startMessageWorker } from '@lomi/message-worker';
import { loadModerationWorkerConfig, startModerationWorker } from '@lomi/moderation-worker';
import { loadPresenceWorkerConfig, startPresenceWorker } from '@lomi/presence-worker';
import { announce } from './announce';

runService('lomi-chat', async () => {
  const env = { ...process.env };
  const log = createLogger('all-in-one', env.LOG_LEVEL ?? 'info');
  for (const [name, value] of Object.entries(DEV_CREDENTIALS)) {
    if (!env[name] && !(name === 'JWT_SECRET' && env.JWT_PUBLIC_KEY)) {
      env[name] = value;
      log.warn(`${name} is not set: using the development default "${value}" (never do this in production)`);
    }
  }
  // Whatever server is not configured is replaced by its in-process implementation, and the log
  // says which in one line.
  const embedded: string[] = [];
  if (!env.NATS_URL) {
    env.NATS_URL = 'memory:';
    embedded.push('bus: in-process (NATS_URL unset)');
  }
  if (!env.REDIS_URL) {
    env.REDIS_URL = 'memory:';
    embedded.push('hot state: in memory (REDIS_URL unset)');
  }
  if (!env.DATABASE_URL) {
    const dataDir = path.resolve(env.LOMI_DATA_DIR ?? '.lomi-data');
    env.DATABASE_URL = `pglite:${dataDir}`;
    embedded.push(`durable record: PGlite in ${dataDir} (DATABASE_URL unset)`);
  }
  if (embedded.length > 0) log.info({ embedded }, `embedded mode: ${embedded.join('; ')}`);
  const webClientDir = path.resolve(__dirname, '../../../apps/web/dist');
  const development = (env.LOMI_ENV ?? 'development') === 'development';
  if (development && env.DEV_TOKENS === undefined && !env.JWT_PUBLIC_KEY) env.DEV_TOKENS = 'true';
  if (development && env.WEB_CLIENT_DIR === undefined && existsSync(webClientDir)) env.WEB_CLIENT_DIR = webClientDir;
  const workerConfig = loadMessageWorkerConfig(env);
  const worker = await startMessageWorker(workerConfig, createLogger('message-worker', workerConfig.LOG_LEVEL));
  // METRICS_PORT is the message worker's here; the other services keep their defaults.
  const presenceConfig = loadPresenceWorkerConfig({ ...env, METRICS_PORT: undefined });
  const presence = await startPresenceWorker(presenceConfig, createLogger('presence-worker', presenceConfig.LOG_LEVEL));
  const moderationConfig = loadModerationWorkerConfig({ ...env, METRICS_PORT: undefined });
  const moderation = await startModerationWorker(moderationConfig, createLogger('moderation-worker', moderationConfig.LOG_LEVEL));
  const gateway = await startGateway(loadGatewayConfig({ ...env, METRICS_PORT: undefined }));
  announce(log, {
    port: gateway.port,
    devTokens: env.DEV_TOKENS === 'true',
    webClient: Boolean(env.WEB_CLIENT_DIR),
    metrics: { gateway: gateway.metricsPort, worker: worker.metricsPort, presence: presence.metricsPort, moderation: moderation.metricsPort },
  });
  return {
    async stop() {
      await gateway.stop();
      await worker.stop();
      await presence.stop();
      await moderation.stop();
    },
  };
});
