import { createLogger, runService } from '@lomi/common';
import { loadGatewayConfig } from './config';
import { startGateway } from './gateway';
import { GATEWAY_NODE_FLAGS } from './node-flags';

runService(
  'gateway',
  () => {
    const config = loadGatewayConfig();
    return startGateway(config, createLogger('gateway', config.LOG_LEVEL));
  },
  GATEWAY_NODE_FLAGS,
);
