import { createLogger, runService } from '@lomi/common';
import { loadGatewayConfig } from './config';
import { startGateway } from './gateway';
import { missingNodeFlags } from './node-flags';

runService('gateway', () => {
  const config = loadGatewayConfig();
  const log = createLogger('gateway', config.LOG_LEVEL);
  const missingFlags = missingNodeFlags();
  if (missingFlags.length > 0) {
    log.warn({ missingFlags }, 'node was started without the gateway flags: idle memory per socket will be several times higher');
  }
  return startGateway(config, log);
});
