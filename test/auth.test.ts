// The upgrade is refused with HTTP 401 — never a socket — without a valid user token; the token
// is accepted from a header, a query parameter or a subprotocol entry.
import WebSocket from 'ws';
import { Encoding, LomiClient, WS_PATH } from '@lomi/client';
import { startSystem, type TestSystem } from '@lomi/testkit';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 1, messageWorkers: 1, env: { JWT_AUDIENCE: 'lomi-chat' } });
});
afterAll(() => system.stop());

/** Attempts an upgrade and reports the HTTP status the server answered with (101 when upgraded). */
function upgradeStatus(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
    ws.on('upgrade', (res) => {
      resolve(res.statusCode ?? 0);
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

const url = () => `${system.wsUrl()}${WS_PATH}`;
const valid = (user = 'u1') => system.token(user, { audience: 'lomi-chat' });

test('no token → 401', async () => {
  expect(await upgradeStatus(url())).toBe(401);
});

test('forged signature → 401', async () => {
  const forged = await system.token('u1', { audience: 'lomi-chat', secret: 'not-the-secret-not-the-secret-xx' });
  expect(await upgradeStatus(url(), { headers: { authorization: `Bearer ${forged}` } })).toBe(401);
});

test('expired token → 401', async () => {
  const expired = await system.token('u1', { audience: 'lomi-chat', expiresIn: Math.floor(Date.now() / 1000) - 60 });
  expect(await upgradeStatus(url(), { headers: { authorization: `Bearer ${expired}` } })).toBe(401);
});

test('wrong audience → 401', async () => {
  const other = await system.token('u1', { audience: 'another-app' });
  expect(await upgradeStatus(url(), { headers: { authorization: `Bearer ${other}` } })).toBe(401);
});

test('garbage token → 401', async () => {
  expect(await upgradeStatus(`${url()}?token=not.a.jwt`)).toBe(401);
});

test('a valid token is accepted from the header, the query and a subprotocol entry', async () => {
  const token = await valid();
  expect(await upgradeStatus(url(), { headers: { authorization: `Bearer ${token}` } })).toBe(101);
  expect(await upgradeStatus(`${url()}?token=${token}`)).toBe(101);
  expect(await upgradeStatus(url(), { protocols: [Encoding.JSON, `lomi.token.${token}`] })).toBe(101);
});

test('an unknown encoding is refused before the upgrade', async () => {
  const token = await valid();
  expect(await upgradeStatus(url(), { protocols: ['mqtt'], headers: { authorization: `Bearer ${token}` } })).toBe(400);
});

test('the SDK connects with each token transport', async () => {
  for (const tokenTransport of ['header', 'query', 'subprotocol'] as const) {
    const client = await LomiClient.connect({ url: system.wsUrl(), token: await valid(), tokenTransport, WebSocket: WebSocket as never });
    expect(await client.ping()).toBeGreaterThan(0);
    await client.close();
  }
});
