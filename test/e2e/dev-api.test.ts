// The development-only side of the gateway that the demo web client uses: tokens for demo users
// and the demo's rooms (DEV_TOKENS), and the built client's files (WEB_CLIENT_DIR), none of which
// a gateway has unless asked, or may have in production.
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LomiClient, RoomKind } from '@lomi/client';
import { DEV_CREDENTIALS } from '@lomi/service-runtime';
import { loadGatewayConfig } from '@lomi/gateway';
import { startSystem, type TestSystem } from '../support/system';
import WebSocket from 'ws';

// A web client directory beside a secret file it must never serve, and a symlink leading to it.
const base = mkdtempSync(path.join(tmpdir(), 'lomi-web-'));
const webDir = path.join(base, 'dist');
mkdirSync(path.join(webDir, 'assets'), { recursive: true });
writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>lomi web</title>');
writeFileSync(path.join(webDir, 'assets', 'app.js'), 'console.log("lomi")');
writeFileSync(path.join(base, 'secret.txt'), 'TOP-SECRET');
symlinkSync(path.join(base, 'secret.txt'), path.join(webDir, 'leak.txt'));

let dev: TestSystem;
let plain: TestSystem;

beforeAll(async () => {
  dev = await startSystem({ env: { DEV_TOKENS: 'true', WEB_CLIENT_DIR: webDir } });
  plain = await startSystem();
});
afterAll(async () => {
  await dev?.stop();
  await plain?.stop();
});

async function post(system: TestSystem, route: string, body: unknown, token?: string) {
  const res = await fetch(`${system.httpUrl()}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** GET with the path sent exactly as given (fetch would resolve `..` itself). */
function rawGet(system: TestSystem, rawPath: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(system.httpUrl());
    const req = request({ host: url.hostname, port: url.port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a development token opens a socket as that user, and the demo rooms can be created with it', async () => {
  const alice = dev.user('alice');
  const bob = dev.user('bob');
  const minted = await post(dev, '/api/v1/dev/token', { userId: alice });
  expect(minted.status).toBe(200);
  expect(minted.body.userId).toBe(alice);
  // Both field-name forms of the JSON mapping are read.
  const bobToken = (await post(dev, '/api/v1/dev/token', { user_id: bob })).body.token as string;

  const conversation = await post(dev, '/api/v1/dev/conversations', { peerId: bob }, minted.body.token);
  expect(conversation.status).toBe(200);
  const live = await post(dev, '/api/v1/dev/live', {}, minted.body.token);
  expect(live.status).toBe(200);

  const client = await LomiClient.connect({ url: dev.wsUrl(), token: bobToken, WebSocket: WebSocket as never });
  try {
    // Bob is the conversation's other member; alice is the live stream's broadcaster.
    const joined = await client.join({ kind: RoomKind.ROOM_KIND_PRIVATE, id: conversation.body.id });
    expect(joined.room?.id).toBe(conversation.body.id);
    const sent = await client.send({ kind: RoomKind.ROOM_KIND_PRIVATE, id: conversation.body.id }, 'hi alice');
    expect(Number(sent.seq)).toBe(1);
  } finally {
    await client.close();
  }
  const broadcaster = await LomiClient.connect({ url: dev.wsUrl(), token: minted.body.token, WebSocket: WebSocket as never });
  try {
    const joined = await broadcaster.join({ kind: RoomKind.ROOM_KIND_LIVE, id: live.body.id });
    expect(joined.role).toBe(3); // ROLE_BROADCASTER
  } finally {
    await broadcaster.close();
  }
});

test('bad development requests are refused with a reason and create nothing', async () => {
  expect((await post(dev, '/api/v1/dev/token', {})).status).toBe(400);
  const control = await post(dev, '/api/v1/dev/token', { userId: 'bad\u0001id' });
  expect(control.status).toBe(400);
  expect(control.body.error.message).toMatch(/userId/);
  expect((await post(dev, '/api/v1/dev/live', {})).status).toBe(401);
  expect((await post(dev, '/api/v1/dev/live', {}, 'not-a-token')).status).toBe(401);
  const token = (await post(dev, '/api/v1/dev/token', { userId: dev.user('carol') })).body.token as string;
  const self = await post(dev, '/api/v1/dev/conversations', { peerId: dev.user('carol') }, token);
  expect(self.status).toBe(400);
  expect(self.body.error.message).toMatch(/peerId/);
});

test('without DEV_TOKENS and WEB_CLIENT_DIR a gateway has no development routes and serves no files', async () => {
  expect((await post(plain, '/api/v1/dev/token', { userId: plain.user('alice') })).status).toBe(404);
  expect((await rawGet(plain, '/')).status).toBe(404);
  expect((await rawGet(plain, '/index.html')).status).toBe(404);
});

test('the web client is served from WEB_CLIENT_DIR, and nothing outside it', async () => {
  const index = await rawGet(dev, '/');
  expect(index.status).toBe(200);
  expect(index.type).toMatch(/^text\/html/);
  expect(index.body).toContain('lomi web');
  const script = await rawGet(dev, '/assets/app.js');
  expect(script.status).toBe(200);
  expect(script.type).toMatch(/^text\/javascript/);
  for (const attempt of [
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/assets%2f..%2f..%2fsecret.txt',
    '/leak.txt',
    '/%00',
    '/nope.js',
  ]) {
    const res = await rawGet(dev, attempt);
    expect([attempt, res.status]).toEqual([attempt, 404]);
    expect(res.body).not.toContain('TOP-SECRET');
  }
  // The API still answers as before.
  expect((await rawGet(dev, '/healthz')).body).toBe('ok\n');
});

test('production refuses the development switches, and DEV_TOKENS needs the HS256 secret', () => {
  const production = {
    LOMI_ENV: 'production',
    NATS_URL: 'nats://nats.lomi.svc:4222',
    JWT_SECRET: 'Vx9kQ2mT7pL4wN8rB3cF6hJ1sD5gA0eZ',
    SERVICE_TOKEN: 'Ht5nR8qW2vY6kM1pX4bC7fJ9',
  };
  expect(() => loadGatewayConfig({ ...production, DEV_TOKENS: 'true' })).toThrow(/DEV_TOKENS: is for development only/);
  expect(() => loadGatewayConfig({ ...production, WEB_CLIENT_DIR: webDir })).toThrow(/WEB_CLIENT_DIR: is for development only/);
  expect(loadGatewayConfig({ ...production, DEV_TOKENS: 'false' }).DEV_TOKENS).toBe(false);
  expect(() =>
    loadGatewayConfig({ JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----', SERVICE_TOKEN: DEV_CREDENTIALS.SERVICE_TOKEN, DEV_TOKENS: 'true' }),
  ).toThrow(/DEV_TOKENS.*needs JWT_SECRET/);
  expect(loadGatewayConfig({ ...DEV_CREDENTIALS, DEV_TOKENS: 'true' }).DEV_TOKENS).toBe(true);
});
