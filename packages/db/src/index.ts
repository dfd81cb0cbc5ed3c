export * from './schema';
export { connectDb, connectionConfig, createDb, dropSchema } from './db';
export { migrateToLatest } from './migrations';
export { migrateEnv } from './migrate-env';
// The durable record's query language is its seam: services write their queries through these,
// whichever engine (a Postgres server or PGlite in process) runs them, and import nothing else.
export { CompiledQuery, sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
