/**
 * The tests in test/ talk to real NATS, Redis and Postgres; see README "Tests". Packages with pure
 * logic (no servers) keep unit tests beside their code in packages/<name>/src.
 *
 * Two projects: `distributed` runs everything on the servers; `embedded-db` runs the suites that
 * exercise the durable record again with it in process (PGlite, DATABASE_URL=pglite:memory), so
 * both implementations of that seam pass the same tests.
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

/** The suites of the durable record: history, conversations, receipts, moderation state, blocks, recovery. */
const DURABLE_RECORD = [
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
      displayName: 'embedded-db',
      roots: ['<rootDir>/test'],
      testMatch: DURABLE_RECORD.map((name) => `<rootDir>/test/${name}.test.ts`),
      setupFiles: ['<rootDir>/test/embedded-db.setup.js'],
    },
  ],
};
