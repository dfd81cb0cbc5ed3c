// An operator's wrong setting stops a service at start with one line per wrong value, before it
// connects to anything: here the gateway's fan-out and batching knobs, its limits and its ports.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DEV_CREDENTIALS, isKnownSecret } from '@lomi/service-runtime';
import { loadGatewayConfig } from '@lomi/gateway';
import { loadMessageWorkerConfig } from '@lomi/message-worker';

const GATEWAY_MAIN = path.resolve(__dirname, '../../services/gateway/dist/main.js');

function startGateway(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GATEWAY_MAIN], {
      env: { PATH: process.env.PATH, JWT_SECRET: 'x'.repeat(32), SERVICE_TOKEN: 'y'.repeat(24), PORT: '0', ...env },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

test('a gateway given wrong fan-out settings exits at once, naming each one', async () => {
  const { code, stderr } = await startGateway({ FANOUT_TURN_SOCKETS: '0', FANOUT_TURN_BYTES: '-1', BATCH_FRAMES_PER_S: 'fast', BATCH_WINDOW_MS: '500' });
  expect(code).toBe(1);
  expect(stderr).toContain('gateway failed to start: invalid configuration');
  expect(stderr).toMatch(/FANOUT_TURN_SOCKETS="0": .+/);
  expect(stderr).toMatch(/FANOUT_TURN_BYTES="-1": .+/);
  expect(stderr).toMatch(/BATCH_FRAMES_PER_S="fast": .+/);
  expect(stderr).toMatch(/BATCH_WINDOW_MS="500": .+/);
});

test('a gateway given wrong limits, proxy header or metrics port exits at once, naming each one', async () => {
  const { code, stderr } = await startGateway({
    MAX_CONNECTIONS_PER_IP: '0',
    MAX_HANDSHAKES_PER_S_PER_IP: 'lots',
    MAX_TOKEN_LIFETIME_S: '-1',
    TRUSTED_PROXY_HEADER: 'x forwarded for',
    METRICS_PORT: '70000',
  });
  expect(code).toBe(1);
  expect(stderr).toMatch(/MAX_CONNECTIONS_PER_IP="0": .+/);
  expect(stderr).toMatch(/MAX_HANDSHAKES_PER_S_PER_IP="lots": .+/);
  expect(stderr).toMatch(/MAX_TOKEN_LIFETIME_S="-1": .+/);
  expect(stderr).toMatch(/TRUSTED_PROXY_HEADER="x forwarded for": must be a header name/);
  expect(stderr).toMatch(/METRICS_PORT="70000": .+/);
});

// LOMI_ENV=production: a deployment that kept the development credentials, a placeholder from a
// manifest or the development servers refuses to start, and says which variable without echoing it.
const WORKER_MAIN = path.resolve(__dirname, '../../services/message-worker/dist/main.js');

function startMessageWorker(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER_MAIN], { env: { PATH: process.env.PATH, ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

const REAL = {
  NATS_URL: 'nats://nats.lomi.svc:4222',
  REDIS_URL: 'redis://:Zq4t7wPnV2kR9sXa@redis.lomi.svc:6379',
  DATABASE_URL: 'postgres://lomi:fJ3mQ8vL1xT6pB0c@postgres.lomi.svc:5432/lomi',
  JWT_SECRET: 'Vx9kQ2mT7pL4wN8rB3cF6hJ1sD5gA0eZ',
  SERVICE_TOKEN: 'Ht5nR8qW2vY6kM1pX4bC7fJ9',
};

test('in production the gateway refuses the development credentials and servers, naming each without echoing it', async () => {
  const { code, stderr } = await startGateway({ LOMI_ENV: 'production', ...DEV_CREDENTIALS });
  expect(code).toBe(1);
  expect(stderr).toMatch(/JWT_SECRET: is a development default or a placeholder/);
  expect(stderr).toMatch(/SERVICE_TOKEN: is a development default or a placeholder/);
  expect(stderr).toMatch(/NATS_URL: must be set in production/);
  expect(stderr).not.toContain(DEV_CREDENTIALS.JWT_SECRET);
});

test('in production a message worker refuses placeholder secrets and URL passwords from a manifest', async () => {
  const { code, stderr } = await startMessageWorker({
    LOMI_ENV: 'production',
    NATS_URL: REAL.NATS_URL,
    REDIS_URL: 'redis://:change-me@redis:6379',
    DATABASE_URL: 'postgres://lomi:replace-with-the-password@postgres:5432/lomi',
    OFFLINE_WEBHOOK_URL: 'https://app.example.org/hook',
    OFFLINE_WEBHOOK_SECRET: 'replace-with-the-app-back-end-shared-secret',
  });
  expect(code).toBe(1);
  expect(stderr).toMatch(/REDIS_URL: has a placeholder password/);
  expect(stderr).toMatch(/DATABASE_URL: has a placeholder password/);
  expect(stderr).toMatch(/OFFLINE_WEBHOOK_SECRET: is a development default or a placeholder/);
  expect(stderr).not.toContain('replace-with-the-password');
});

test('production takes secrets of its own, and development still takes the defaults pnpm start uses', () => {
  expect(loadGatewayConfig({ LOMI_ENV: 'production', ...REAL }).LOMI_ENV).toBe('production');
  expect(loadMessageWorkerConfig({ LOMI_ENV: 'production', ...REAL }).DATABASE_URL).toBe(REAL.DATABASE_URL);
  expect(loadGatewayConfig({ ...DEV_CREDENTIALS }).JWT_SECRET).toBe(DEV_CREDENTIALS.JWT_SECRET);
  for (const placeholder of ['change-me', 'CHANGEME', 'replace-with-at-least-32-random-characters', 'your-secret-here', 'xxxxxxxx']) {
    expect(isKnownSecret(placeholder)).toBe(true);
  }
  expect(isKnownSecret(REAL.JWT_SECRET)).toBe(false);
});

test('in production a worker refuses the embedded in-process implementations, naming each', async () => {
  const { code, stderr } = await startMessageWorker({ ...REAL, LOMI_ENV: 'production', NATS_URL: 'memory:', REDIS_URL: 'memory:', DATABASE_URL: 'pglite:/var/lib/lomi' });
  expect(code).toBe(1);
  for (const name of ['NATS_URL', 'REDIS_URL', 'DATABASE_URL']) expect(stderr).toMatch(new RegExp(`${name}: keeps its state inside one process`));
});

test('a worker given a malformed Redis Cluster seed list exits at once, naming it', async () => {
  const { code, stderr } = await startMessageWorker({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1' });
  expect(code).toBe(1);
  expect(stderr).toMatch(/REDIS_CLUSTER_NODES="127.0.0.1:7000,127.0.0.1": must be host:port, comma separated/);
});
