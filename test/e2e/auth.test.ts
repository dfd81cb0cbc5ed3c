// The upgrade is refused with HTTP 401 — never a socket — without a valid user token (signed,
// not expired, with an exp no further than MAX_TOKEN_LIFETIME_S away); the token is accepted
// from a header, a query parameter or a subprotocol entry.
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { Encoding, LomiClient, WS_PATH } from '@lomi/client';
import { attemptUpgrade } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 1, messageWorkers: 1, env: { JWT_AUDIENCE: 'lomi-chat' } });
});
afterAll(() => system.stop());

async function upgradeStatus(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<number> {
  return (await attemptUpgrade(url, options)).status;
}

/** A token signed with the system's secret, with exactly the claims given (none added). */
function signed(claims: { iat?: number; exp?: number }): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').setAudience('lomi-chat').sign(Buffer.from(system.jwtSecret, 'utf8'));
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

test('a token without exp → 401 saying so', async () => {
  const forever = await signed({ iat: Math.floor(Date.now() / 1000) });
  expect(await attemptUpgrade(url(), { headers: { authorization: `Bearer ${forever}` } })).toEqual({
    status: 401,
    body: 'invalid token: token has no exp claim; user tokens must expire',
  });
});

test('a token living longer than MAX_TOKEN_LIFETIME_S (24 h by default) → 401 saying so; up to it, accepted', async () => {
  const now = Math.floor(Date.now() / 1000);
  const day = 24 * 3600;
  const tooLong = await attemptUpgrade(url(), { headers: { authorization: `Bearer ${await signed({ iat: now, exp: now + day + 60 })}` } });
  expect(tooLong).toEqual({ status: 401, body: `invalid token: token lives ${day + 60} s, longer than the ${day} s accepted (MAX_TOKEN_LIFETIME_S)` });
  // Without iat, the lifetime is counted from now.
  const noIat = await attemptUpgrade(url(), { headers: { authorization: `Bearer ${await signed({ exp: now + 2 * day })}` } });
  expect(noIat.status).toBe(401);
  expect(noIat.body).toContain('longer than the 86400 s accepted');
  // An iat set in the future does not stretch it either.
  expect(await upgradeStatus(url(), { headers: { authorization: `Bearer ${await signed({ iat: now + day, exp: now + 2 * day })}` } })).toBe(401);
  // A token issued an hour ago for a day is within it.
  expect(await upgradeStatus(url(), { headers: { authorization: `Bearer ${await signed({ iat: now - 3600, exp: now + day - 3600 })}` } })).toBe(101);
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
