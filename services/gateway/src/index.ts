export { startGateway, WS_PATH, type Gateway } from './gateway';
export { gatewayEnv, loadGatewayConfig, type GatewayConfig } from './config';
export { GATEWAY_NODE_FLAGS } from './node-flags';
