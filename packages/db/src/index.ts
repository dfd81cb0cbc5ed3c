export * from './schema';
export { createDb, connectDb } from './db';
export { migrateToLatest } from './migrations';
