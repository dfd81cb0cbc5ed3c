/** Every test talks to real NATS, Redis and Postgres; see README "Tests". */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }] },
  testTimeout: 60_000,
  // Two cores: more workers only make the timing-sensitive fan-out tests slower.
  maxWorkers: 2,
};
