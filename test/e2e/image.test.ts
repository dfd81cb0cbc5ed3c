// The image's file tree runs. Docker is not available here, so this performs the Dockerfile's own
// production install (deploy/install-production.sh, offline from the local store) into a temporary
// folder, then, from that folder alone — no workspace node_modules reachable — runs the migration
// Job's command and starts every service as the image would (LOMI_ENV=production), against the
// test servers: each answers /readyz 200, and a message sent through them is acked.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { LomiClient } from '@lomi/client';
import { connectRedis, createKeys, deleteMatching } from '@lomi/hot-state';
import { createLogger } from '@lomi/service-runtime';
import { dropSchema } from '@lomi/db';
import { Encoding } from '@lomi/protocol';
import { createLiveRoom, DEFAULT_URLS, serviceApi, signUserToken, spawnService, type ServiceKind, type ServiceProcess } from '@lomi/testkit';

const repo = path.resolve(__dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lomi-image-'));
const root = path.join(dir, 'app');
const namespace = `img${randomBytes(4).toString('hex')}`;
const jwtSecret = randomBytes(32).toString('hex');
const serviceToken = randomBytes(24).toString('hex');
const env: Record<string, string> = {
  ...DEFAULT_URLS,
  LOMI_ENV: 'production',
  LOMI_NAMESPACE: namespace,
  JWT_SECRET: jwtSecret,
  SERVICE_TOKEN: serviceToken,
  HOST: '127.0.0.1',
  PORT: '0',
  METRICS_PORT: '0',
  // The migration Job migrates; the services do not (as in k8s/base).
  RUN_MIGRATIONS: 'false',
};
const services: ServiceProcess[] = [];

beforeAll(() => {
  const install = spawnSync('bash', ['deploy/install-production.sh', root, '--offline'], { cwd: repo, encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`install-production.sh failed:\n${install.stdout}${install.stderr}`);
}, 60_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.kill()));
  const redis = await connectRedis(DEFAULT_URLS.REDIS_URL, createLogger('image-test', 'silent'));
  await deleteMatching(redis, createKeys(namespace).allPattern);
  redis.disconnect();
  await dropSchema(DEFAULT_URLS.DATABASE_URL, namespace);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the install holds every service, and nothing in it points outside it', () => {
  for (const service of ['gateway', 'message-worker', 'presence-worker', 'moderation-worker']) {
    expect(fs.existsSync(path.join(root, 'node_modules/@lomi', service, 'dist/main.js'))).toBe(true);
  }
  const escapes: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const file = path.join(folder, entry.name);
      if (entry.isSymbolicLink()) {
        const target = fs.realpathSync(file);
        if (!target.startsWith(`${root}${path.sep}`)) escapes.push(`${file} -> ${target}`);
      } else if (entry.isDirectory()) walk(file);
    }
  };
  walk(root);
  expect(escapes).toEqual([]);
  // One uWebSockets.js binary: the one this Node loads.
  const binaries = spawnSync('find', [root, '-name', 'uws_*.node'], { encoding: 'utf8' }).stdout.trim().split('\n');
  expect(binaries.map((b) => path.basename(b))).toEqual([`uws_${process.platform}_${process.arch}_${process.versions.modules}.node`]);
});

test('from the install alone: the migration Job migrates, every service comes up ready, a send is acked', async () => {
  const migrate = spawnSync(process.execPath, ['node_modules/@lomi/db/dist/migrate-cli.js'], {
    cwd: root,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
  });
  expect(`${migrate.stdout}${migrate.stderr}`).toContain('migrations applied');
  expect(migrate.status).toBe(0);

  const kinds: ServiceKind[] = ['message-worker', 'presence-worker', 'moderation-worker', 'gateway'];
  services.push(...(await Promise.all(kinds.map((kind) => spawnService(kind, kind, env, root)))));
  for (const service of services) {
    const readyz = await fetch(`http://127.0.0.1:${service.metricsPort}/readyz`);
    expect([service.kind, readyz.status, await readyz.text()]).toEqual([service.kind, 200, 'ready\n']);
  }

  const gateway = services.find((s) => s.kind === 'gateway')!;
  const room = await createLiveRoom(
    serviceApi(() => `http://127.0.0.1:${gateway.port}`, serviceToken),
    `host-${namespace}`,
  );
  const client = await LomiClient.connect({
    url: gateway.url,
    token: await signUserToken(jwtSecret, `viewer-${namespace}`),
    encoding: Encoding.PROTO,
    WebSocket: WebSocket as never,
  });
  await client.join(room);
  expect(Number((await client.send(room, 'from the image')).seq)).toBe(1);
  await client.close();

  for (const service of services) expect([service.kind, await service.terminate()]).toEqual([service.kind, 'code 0']);
}, 60_000);
