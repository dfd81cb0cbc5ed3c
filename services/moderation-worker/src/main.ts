// A service of its own so it scales and fails independently of message handling. Until its
// features land (see the issues) it only joins the bus, so its deployment and health checks can
// be set up now.
import { commonEnv, connectNats, createLogger, parseEnv, runService, z } from '@lomi/common';

runService('moderation-worker', async () => {
  const config = parseEnv(z.object(commonEnv));
  const nc = await connectNats(config.NATS_URL, 'moderation-worker', createLogger('moderation-worker', config.LOG_LEVEL));
  return { stop: () => nc.drain() };
});
