export * from './schema';
export { connectDb, connectionConfig, createDb, dropSchema } from './db';
export { migrateToLatest } from './migrations';
export { migrateEnv } from './migrate-env';
