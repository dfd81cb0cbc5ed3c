/**
 * The tests in test/ talk to real NATS, Redis and Postgres; see README "Tests". Packages with pure
 * logic (no servers) keep unit tests beside their code in packages/<name>/src.
 *
 * Two projects: `distributed` runs everything on the servers; `embedded` runs the end-to-end
 * suites of the core features again with the bus and the durable record inside the test process
 * (NATS_URL=memory:, DATABASE_URL=pglite:memory), so both implementations of those seams pass the
 * same tests. Left out of it: tests that need a server or a process by nature (they start, stop
 * or kill one, or read tables with pg directly).
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
];

module.exports = {
  testTimeout: 60_000,
  // Two cores: more workers only make the timing-sensitive fan-out tests slower.
  maxWorkers: 2,
  projects: [
    { ...base, displayName: 'distributed', roots: ['<rootDir>/test', '<rootDir>/packages'], testMatch: ['**/*.test.ts'] },
    {
      ...base,
      displayName: 'embedded',
      roots: ['<rootDir>/test'],
      testMatch: EMBEDDED.map((name) => `<rootDir>/test/${name}.test.ts`),
      setupFiles: ['<rootDir>/test/embedded.setup.js'],
    },
  ],
};
