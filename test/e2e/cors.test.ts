// Browsers: with CORS_ORIGINS set, the HTTP API answers the listed origins' requests and
// preflights with CORS headers, and a WebSocket upgrade from any other origin is refused (403).
// Requests without an Origin (native apps, servers) are never refused for it.
import { request } from 'node:http';
import WebSocket from 'ws';
import { WS_PATH } from '@lomi/client';
import { startSystem, type TestSystem } from '../support/system';

const ALLOWED = 'https://app.example.com';
let system: TestSystem;
let open: TestSystem;

beforeAll(async () => {
  [system, open] = await Promise.all([startSystem({ env: { CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` } }), startSystem()]);
});
afterAll(() => Promise.all([system.stop(), open.stop()]));

/** An HTTP request with exactly these headers (fetch would add its own Origin rules). */
function call(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

function upgrade(url: string, token: string, origin?: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}${WS_PATH}`, { headers: { authorization: `Bearer ${token}` }, ...(origin ? { origin } : {}) });
    ws.on('upgrade', (res) => {
      resolve(res.statusCode ?? 0);
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => undefined);
  });
}

test('an allowed origin gets its CORS headers on answers and preflights; another gets none', async () => {
  const room = await system.createLiveRoom(system.user('cors-host'));
  const path = `/api/v1/live/${room.id}/viewers`;
  const auth = { authorization: `Bearer ${await system.token(system.user('cors-viewer'))}` };

  const allowed = await call(system.httpUrl(), 'GET', path, { ...auth, origin: ALLOWED });
  expect(allowed.status).toBe(200);
  expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED);
  expect(allowed.headers.vary).toBe('Origin');
  // Errors carry them too, or the page could not read why it was refused.
  const refused = await call(system.httpUrl(), 'GET', path, { origin: ALLOWED });
  expect(refused.status).toBe(401);
  expect(refused.headers['access-control-allow-origin']).toBe(ALLOWED);

  const other = await call(system.httpUrl(), 'GET', path, { ...auth, origin: 'https://evil.example' });
  expect(other.headers['access-control-allow-origin']).toBeUndefined();
  expect(other.headers.vary).toBe('Origin');

  const preflight = { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' };
  const ok = await call(system.httpUrl(), 'OPTIONS', '/api/v1/live', preflight);
  expect(ok.status).toBe(204);
  expect(ok.headers).toMatchObject({
    'access-control-allow-origin': ALLOWED,
    'access-control-allow-methods': expect.stringContaining('POST'),
    'access-control-allow-headers': expect.stringContaining('authorization'),
    vary: 'Origin',
  });
  expect((await call(system.httpUrl(), 'OPTIONS', '/api/v1/live', { ...preflight, origin: 'https://evil.example' })).status).toBe(403);
});

test('the WebSocket upgrade admits listed origins and requests without one, and refuses others with 403', async () => {
  const token = await system.token(system.user('cors-socket'));
  expect(await upgrade(system.wsUrl(), token, ALLOWED)).toBe(101);
  expect(await upgrade(system.wsUrl(), token, 'http://localhost:5173')).toBe(101);
  expect(await upgrade(system.wsUrl(), token)).toBe(101);
  expect(await upgrade(system.wsUrl(), token, 'https://evil.example')).toBe(403);
});

test('without CORS_ORIGINS there are no CORS headers and any origin may upgrade', async () => {
  const res = await call(open.httpUrl(), 'GET', '/healthz', { origin: ALLOWED });
  expect(res.headers['access-control-allow-origin']).toBeUndefined();
  expect(await upgrade(open.wsUrl(), await open.token(open.user('anywhere')), 'https://evil.example')).toBe(101);
});
