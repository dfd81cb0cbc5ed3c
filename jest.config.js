/**
 * The tests in test/ talk to real NATS, Redis and Postgres; see README "Tests". Packages with pure
 * logic (no servers) keep unit tests beside their code in packages/<name>/src.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/packages'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }] },
  testTimeout: 60_000,
  // Two cores: more workers only make the timing-sensitive fan-out tests slower.
  maxWorkers: 2,
};
