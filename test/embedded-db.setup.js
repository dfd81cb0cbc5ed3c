// The embedded-db project (jest.config.js): every system its tests start keeps the durable record
// in process (PGlite) instead of on the Postgres server.
process.env.DATABASE_URL = 'pglite:memory';
