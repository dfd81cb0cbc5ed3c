import { createLogger, GATEWAY_NODE_FLAGS, runService } from '@lomi/service-runtime';
import { loadGatewayConfig } from './config';
import { startGateway } from './gateway';

runService(
  'gateway',
  () => {
    const config = loadGatewayConfig();
    return startGateway(config, createLogger('gateway', config.LOG_LEVEL));
  },
  GATEWAY_NODE_FLAGS,
);
