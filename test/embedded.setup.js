// The embedded project (jest.config.js): every system its tests start puts its services on the
// in-process bus and keeps the durable record in process (PGlite) instead of on the servers.
process.env.NATS_URL = 'memory:';
process.env.DATABASE_URL = 'pglite:memory';
