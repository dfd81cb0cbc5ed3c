// What happens to a connection over time: RS256 tokens, a token that expires while connected,
// and a client that stops answering pings.
import { generateKeyPairSync } from 'node:crypto';
import WebSocket from 'ws';
import { SignJWT } from 'jose';
import { CloseCode, Encoding, LomiClient, WS_PATH } from '@lomi/client';
import { encodeClientFrame } from '@lomi/protocol';
import { startSystem, type TestSystem } from '@lomi/testkit';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
let rs256: TestSystem;
let hs256: TestSystem;

beforeAll(async () => {
  [rs256, hs256] = await Promise.all([
    startSystem({ env: { JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString() } }),
    startSystem({ env: { IDLE_TIMEOUT_S: '8' } }),
  ]);
});
afterAll(() => Promise.all([rs256.stop(), hs256.stop()]));

const signRs256 = (sub: string) => new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject(sub).setExpirationTime('1h').sign(privateKey);

function upgradeStatus(url: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}${WS_PATH}`, { headers: { authorization: `Bearer ${token}` } });
    ws.on('upgrade', (res) => {
      resolve(res.statusCode ?? 0);
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => undefined);
  });
}

test('with JWT_PUBLIC_KEY, RS256 tokens are accepted and HS256 ones refused', async () => {
  expect(await upgradeStatus(rs256.wsUrl(), await signRs256('rsa-user'))).toBe(101);
  const client = await LomiClient.connect({ url: rs256.wsUrl(), token: await signRs256('rsa-user'), WebSocket: WebSocket as never });
  expect(await client.ping()).toBeGreaterThan(0);
  await client.close();
  // Last: a connection opened right after such a refusal was seen to drop (1006) about once in
  // 40 tries on this uWS build — an open bug, reproduced outside this test, see the issue notes.
  expect(await upgradeStatus(rs256.wsUrl(), await rs256.token('hs-user', { secret: 'x'.repeat(32) }))).toBe(401);
});

test('a token that expires while connected ends the session with 4401, and the SDK does not reconnect', async () => {
  const exp = Math.floor(Date.now() / 1000) + 2;
  const client = await LomiClient.connect({
    url: hs256.wsUrl(),
    token: await hs256.token('short-lived', { expiresIn: exp }),
    WebSocket: WebSocket as never,
  });
  const reconnects: number[] = [];
  client.on('reconnecting', (attempt) => reconnects.push(attempt));
  const closed = new Promise<number>((resolve) => client.on('close', (code) => resolve(code)));
  expect(await client.ping()).toBeGreaterThan(0);
  // JWT expiry has one-second resolution: wait until the token is past it.
  await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 100));
  await expect(client.ping()).rejects.toThrow();
  expect(await closed).toBe(CloseCode.AUTH_FAILED);
  expect(reconnects).toEqual([]);
});

test('a client that stops answering pings is closed after the idle timeout', async () => {
  const ws = new WebSocket(`${hs256.wsUrl()}${WS_PATH}`, [Encoding.PROTO], {
    headers: { authorization: `Bearer ${await hs256.token('silent')}` },
    autoPong: false,
  });
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(encodeClientFrame({ requestId: 1, ping: {} }, Encoding.PROTO));
  const started = Date.now();
  const pings: number[] = [];
  ws.on('ping', () => pings.push(Date.now() - started));
  await new Promise((resolve) => ws.once('close', resolve));
  const lasted = Date.now() - started;
  // uWS pings at about half the timeout and closes a socket that stayed silent for the timeout
  // (its timers tick every 4 s, hence the margin).
  expect(pings.length).toBeGreaterThan(0);
  expect(lasted).toBeGreaterThanOrEqual(4_000);
  expect(lasted).toBeLessThan(16_000);
}, 30_000);
