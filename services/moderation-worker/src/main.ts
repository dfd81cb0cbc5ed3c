// The moderation worker is a service of its own so it scales and fails independently of message
// handling. Until its features land (see the issues) it only joins the bus, so deployments,
// health checks and dashboards for it can be set up now.
import { commonEnv, connectNats, createLogger, parseEnv, z } from '@lomi/common';

async function main(): Promise<void> {
  const config = parseEnv(z.object(commonEnv));
  const log = createLogger('moderation-worker', config.LOG_LEVEL);
  const nc = await connectNats(config.NATS_URL, 'moderation-worker', log);
  log.info('moderation worker connected; no commands are routed to it yet');
  const shutdown = () => void nc.drain().then(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: Error) => {
  console.error(`moderation worker failed to start: ${err.message}`);
  process.exit(1);
});
