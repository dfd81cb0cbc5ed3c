import { runService } from '@lomi/common';
import { loadGatewayConfig } from './config';
import { startGateway } from './gateway';

runService('gateway', () => startGateway(loadGatewayConfig()));
