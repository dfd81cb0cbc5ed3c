/**
 * Three levels (docs/testing.md): unit tests beside their code in packages/<name>/src and
 * services/<name>/src; contract suites of the seams in test/contract/; end-to-end suites in
 * test/e2e/, over the real wire to real NATS, Redis and Postgres. test/support/ holds what they
 * share that is no test: the in-process test system and the projects' setup files.
 *
 * Four projects (docs/testing.md): `distributed` runs everything on the servers; `embedded` runs the
 * end-to-end suites of the core features again with every seam inside the test process
 * (NATS_URL=memory:, REDIS_URL=memory:, DATABASE_URL=pglite:memory), so both implementations of
 * those seams pass the same tests; `redis-cluster` runs the live and private suites on a Redis
 * Cluster; `alone` holds the suites that load the whole machine, which `pnpm test` runs last.
 */
const base = {
  testEnvironment: 'node',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
    // PGlite loads Node built-ins with import(), which jest's module sandbox refuses without
    // --experimental-vm-modules: rewritten to require() for the tests.
    '@electric-sql/pglite/dist/.+\\.cjs$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs', ignoreDynamic: false } }],
  },
  transformIgnorePatterns: ['^(?!.*/@electric-sql/pglite/dist/).*/node_modules/'],
};

const EMBEDDED = [
  'protocol',
  'protocol-semantics',
  'push-frames',
  'live-fanout',
  'join-batches',
  'join-leave',
  'typing',
  'reconnect',
  'service-api',
  'webhook',
  'word-filter',
  'rate-limit',
  'sdk-features',
  'history',
  'private-room',
  'conversations',
  'receipts',
  'gifts',
  'pins',
  'moderation',
  'room-moderation',
  'room-settings',
  'slow-mode',
  'blocks',
  'recovery',
  'idempotency',
  'auth',
  'cors',
  'dev-api',
  'abuse-limits',
  'batching',
  'fan-out',
  'slow-consumer',
  'viewer-count-pace',
  'session-lifetime',
  'token-refresh',
  'sdk-outbox',
  'sdk-rejoin',
  'sdk-tokens',
];

// The end-to-end suites of live and private rooms, again on a Redis Cluster (3 masters + 3
// replicas) that the project starts for the run; test/e2e/redis-cluster.test.ts checks the rooms
// spread over every master, and what a failover costs.
const REDIS_CLUSTER = ['live-fanout', 'private-room', 'history', 'recovery', 'pins', 'presence', 'typing', 'receipts', 'conversations', 'rate-limit'];

// Suites that load the whole machine for minutes: run after the others, alone (`pnpm test` runs
// this project second), so they neither starve nor are starved by the suites beside them.
const ALONE = ['room-churn'];

module.exports = {
  testTimeout: 60_000,
  // Two cores: more workers only make the timing-sensitive fan-out tests slower.
  maxWorkers: 2,
  projects: [
    {
      ...base,
      displayName: 'distributed',
      roots: ['<rootDir>/test', '<rootDir>/packages', '<rootDir>/services'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: [...base.testPathIgnorePatterns, ...ALONE.map((name) => `/test/e2e/${name}\\.test\\.ts$`)],
    },
    { ...base, displayName: 'alone', roots: ['<rootDir>/test/e2e'], testMatch: ALONE.map((name) => `<rootDir>/test/e2e/${name}.test.ts`) },
    {
      ...base,
      displayName: 'embedded',
      roots: ['<rootDir>/test/e2e'],
      testMatch: EMBEDDED.map((name) => `<rootDir>/test/e2e/${name}.test.ts`),
      setupFiles: ['<rootDir>/test/support/embedded.setup.js'],
    },
    {
      ...base,
      displayName: 'redis-cluster',
      roots: ['<rootDir>/test/e2e'],
      testMatch: REDIS_CLUSTER.map((name) => `<rootDir>/test/e2e/${name}.test.ts`),
      globalSetup: '<rootDir>/test/support/redis-cluster.setup.js',
      globalTeardown: '<rootDir>/test/support/redis-cluster.teardown.js',
      setupFiles: ['<rootDir>/test/support/redis-cluster.env.js'],
    },
  ],
};
