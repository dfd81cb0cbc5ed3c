export * from './config';
export * from './logger';
export * from './subjects';
export * from './keys';
export * from './nats';
export * from './redis';
export * from './metrics';
export * from './run';
