export { startGateway, type Gateway } from './gateway';
export { gatewayEnv, loadGatewayConfig, type GatewayConfig } from './config';
