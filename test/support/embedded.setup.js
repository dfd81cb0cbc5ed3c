// The embedded project (jest.config.js): every system its tests start runs every seam inside the
// test process — the in-process bus, the memory hot state and PGlite — instead of on the servers.
process.env.NATS_URL = 'memory:';
process.env.REDIS_URL = 'memory:';
process.env.DATABASE_URL = 'pglite:memory';
