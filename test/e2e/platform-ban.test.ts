// Platform bans (service API): a banned user's sockets are closed with 4403 on every gateway
// within a second, their upgrades are refused with HTTP 403 (also by a gateway started after the
// ban, and their user token on the read API), until the ban is lifted. A gateway that missed the
// ban event catches up at its next resync.
import WebSocket from 'ws';
import { CloseCode, LomiClient, WS_PATH } from '@lomi/client';
import { createLogger } from '@lomi/service-runtime';
import { loadGatewayConfig, startGateway } from '@lomi/gateway';
import { attemptUpgrade, waitFor, type UpgradeAnswer } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import { Pool } from 'pg';

let system: TestSystem;

beforeAll(async () => {
  // The gateways resync once a minute (the default): what happens within the tests is the events' doing.
  system = await startSystem({ gateways: 2, messageWorkers: 2 });
});
afterAll(() => system.stop());

/** The HTTP status of a WebSocket upgrade of `userId` at `port` (101 when it opened; the socket is then closed). */
async function upgradeStatus(port: number, userId: string): Promise<UpgradeAnswer> {
  return attemptUpgrade(`ws://127.0.0.1:${port}${WS_PATH}`, { headers: { authorization: `Bearer ${await system.token(userId)}` } });
}

const ports = () => system.gateways.map((g) => g.port);

/** Resolves with the close code of `client` once it closed for good. */
const closed = (client: LomiClient) => new Promise<number>((resolve) => client.on('close', (code) => resolve(code)));

const ban = (userId: string, reason = 'spam bot') => system.api('POST', '/api/v1/platform/ban', { user_id: userId, reason });

test('a banned user is closed with 4403 on both gateways within a second, refused with 403, and connects again once unbanned', async () => {
  const userId = system.user('pb-troll');
  const [onA, onB] = [await system.connect(userId, { gateway: 0 }), await system.connect(userId, { gateway: 1 })];
  const bystander = await system.connect(system.user('pb-bystander'), { gateway: 1 });
  const closes = Promise.all([closed(onA), closed(onB)]);

  const bannedAt = Date.now();
  expect(await ban(userId)).toMatchObject({ status: 200, body: { changed: true } });
  const codes = await Promise.race([closes, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('not closed on both gateways within a second')), 1000))]);
  expect(codes).toEqual([CloseCode.BANNED, CloseCode.BANNED]);
  expect(Date.now() - bannedAt).toBeLessThan(1000);
  expect(bystander.isOpen).toBe(true);

  for (const port of ports()) expect(await upgradeStatus(port, userId)).toEqual({ status: 403, body: 'banned from the platform' });
  // Their user token does not read the API either.
  const read = await fetch(`${system.httpUrl(1)}/api/v1/live/any/viewers`, { headers: { authorization: `Bearer ${await system.token(userId)}` } });
  expect(read.status).toBe(403);
  // Banning again changes nothing.
  expect((await ban(userId)).body).toEqual({ changed: false });

  expect(await system.api('POST', '/api/v1/platform/unban', { user_id: userId })).toMatchObject({ status: 200, body: { changed: true } });
  for (const port of ports()) {
    await waitFor(async () => (await upgradeStatus(port, userId)).status === 101, `the unbanned user to connect to port ${port}`, 1000);
  }
  const back = await system.connect(userId, { gateway: 1 });
  expect(await back.ping()).toBeGreaterThan(0);
});

test('a gateway started after the ban refuses the banned user too', async () => {
  const userId = system.user('pb-early');
  expect((await ban(userId)).status).toBe(200);
  const late = await system.spawnGateway();
  try {
    expect((await upgradeStatus(late.port, userId)).status).toBe(403);
    expect((await upgradeStatus(late.port, system.user('pb-innocent'))).status).toBe(101);
  } finally {
    await late.kill();
  }
});

test('a ban a gateway did not hear of closes the user at its next resync', async () => {
  const resyncing = await startGateway(loadGatewayConfig({ ...system.env, BANS_RESYNC_MS: '300' }), createLogger('gateway', 'error'));
  try {
    const userId = system.user('pb-unheard');
    const client = await system.connect(userId, { gateway: 0 });
    const onResyncing = await LomiClient.connect({ url: `ws://127.0.0.1:${resyncing.port}`, token: await system.token(userId), WebSocket: WebSocket as never });
    const code = closed(onResyncing);
    // Written behind the moderation workers' back: no event, as if every gateway had missed it.
    const pool = new Pool(system.pg);
    try {
      await pool.query(`insert into platform_bans (user_id, reason) values ($1, 'unheard')`, [userId]);
    } finally {
      await pool.end();
    }
    expect(await code).toBe(CloseCode.BANNED);
    expect((await upgradeStatus(resyncing.port, userId)).status).toBe(403);
    // The gateways that resync once a minute have not noticed yet.
    expect(client.isOpen).toBe(true);
    expect((await upgradeStatus(ports()[1]!, userId)).status).toBe(101);
  } finally {
    await resyncing.stop();
  }
});

test('the ban API refuses bad requests and changes nothing', async () => {
  const userId = system.user('pb-fine');
  expect((await ban(userId, 'bad\u0000reason')).status).toBe(400);
  const long = await ban(userId, 'x'.repeat(501));
  expect(long).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', message: 'reason is longer than 500 characters' } } });
  expect((await system.api('POST', '/api/v1/platform/ban', { reason: 'who?' })).status).toBe(400);
  expect((await ban(userId, '  ')).body).toEqual({ error: { code: 'BAD_REQUEST', message: 'reason is required' } });
  const asUser = await fetch(`${system.httpUrl()}/api/v1/platform/ban`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await system.token(userId)}` },
    body: JSON.stringify({ user_id: system.user('pb-victim'), reason: 'because' }),
  });
  expect(asUser.status).toBe(401);
  for (const port of ports()) expect((await upgradeStatus(port, userId)).status).toBe(101);
});
