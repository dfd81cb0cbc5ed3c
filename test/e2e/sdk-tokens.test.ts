// A session outlives its token when the app gives the SDK a refresher. In band: the gateway pushes
// token_expiring TOKEN_EXPIRING_NOTICE_S before the token's exp, the SDK answers with RefreshToken
// and the same socket carries on past that exp, token after token. And when the in-band refresh
// fails (the app's auth server is down just then), the 4401 at exp is reconnected with a new
// token from the next `refreshToken()`, the rooms are joined again with nothing missed, and the
// app sees no close. Without a refresher the app is told and the session ends at exp.
import WebSocket from 'ws';
import { CloseCode, LomiClient, type ConnectOptions } from '@lomi/client';
import { MessageLog, waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

// Tokens below live TOKEN_LIFE_S: past the SDK's own margin (it refreshes a token that expires
// within 10 s before connecting with it), so each socket starts on the token it was given, and
// the notice comes NOTICE_S before exp, well after the connect.
const NOTICE_S = 8;
const TOKEN_LIFE_S = 12;

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ env: { TOKEN_EXPIRING_NOTICE_S: String(NOTICE_S) } });
});
afterAll(() => system.stop());

const expiringToken = (user: string) => {
  const exp = Math.floor(Date.now() / 1000) + TOKEN_LIFE_S;
  return { exp, token: system.token(user, { expiresIn: exp }) };
};

/** A connected client whose events the test reads, every one since before the connect. */
async function watchedClient(options: Pick<ConnectOptions, 'token' | 'refreshToken'>) {
  const client = new LomiClient({ url: system.wsUrl(), WebSocket: WebSocket as never, reconnectWindowMs: 100, ...options });
  const seen = { closeCodes: [] as number[], refreshedHow: [] as string[], notices: [] as number[], closed: [] as number[], errors: [] as string[] };
  client.on('reconnecting', (_attempt, _delay, code) => seen.closeCodes.push(code));
  client.on('tokenRefreshed', (how) => seen.refreshedHow.push(how));
  client.on('tokenExpiring', (event) => seen.notices.push(Number(event.expiresAtMs)));
  client.on('close', (code) => seen.closed.push(code));
  client.on('error', (err) => seen.errors.push(err.message));
  const log = new MessageLog(client);
  await client.connect();
  return { client, seen, log };
}

test('the SDK refreshes its token in band on token_expiring, and the socket lives past every expiry', async () => {
  const user = system.user('in-band');
  const room = await system.createLiveRoom(system.user('in-band-caster'));
  const sender = await system.connect(system.user('in-band-sender'), { join: room });
  const first = expiringToken(user);
  const refreshes: number[] = [];
  const { client, seen, log } = await watchedClient({
    token: await first.token,
    // Each new token is as short-lived as the first: the next notice comes before the first's exp.
    refreshToken: () => {
      refreshes.push(Date.now());
      return expiringToken(user).token;
    },
  });
  await client.join(room);
  await sender.send(room, 'on the first token');
  await log.waitFor(room, 1);

  // Past the first token's exp, and the second's notice: two in-band refreshes on one socket.
  await waitFor(() => Date.now() > first.exp * 1000 + 1000 && seen.refreshedHow.length >= 2, 'two refreshes past the first exp', 30_000);
  await sender.send(room, 'after the first token expired');
  expect((await log.waitFor(room, 2)).map((m) => m.content)).toEqual(['on the first token', 'after the first token expired']);
  expect(seen.refreshedHow.every((how) => how === 'in-band')).toBe(true);
  expect(seen.notices.length).toBeGreaterThanOrEqual(2);
  expect(seen.notices[0]).toBe(first.exp * 1000);
  // Each notice before its token's exp, and each refresh answers one.
  expect(refreshes[0]!).toBeLessThan(first.exp * 1000);
  expect(seen.notices.length).toBe(refreshes.length);
  expect(seen.closeCodes).toEqual([]);
  expect(seen.closed).toEqual([]);
  expect(seen.errors).toEqual([]);
  expect(client.state).toBe('connected');
  await client.close();
}, 60_000);

test('when the in-band refresh fails, the 4401 at expiry is reconnected with the next token and the session goes on', async () => {
  const user = system.user('refreshed');
  const room = await system.createLiveRoom(system.user('token-caster'));
  const sender = await system.connect(system.user('token-sender'), { join: room });
  const first = expiringToken(user);
  const refreshes: number[] = [];
  const { client, seen, log } = await watchedClient({
    token: await first.token,
    refreshToken: async () => {
      refreshes.push(Date.now());
      if (refreshes.length === 1) throw new Error('auth server down');
      return system.token(user);
    },
  });
  await client.join(room);
  await sender.send(room, 'on the first token');

  await waitFor(() => seen.closeCodes.length > 0, 'the 4401 close', 30_000);
  expect(seen.closeCodes[0]).toBe(CloseCode.AUTH_FAILED);
  expect(seen.errors).toEqual(['auth server down']);
  await waitFor(() => client.state === 'connected', 'reconnected with the new token');
  // The failed one on the notice, the good one after the close, at the token's exp.
  expect(refreshes.length).toBe(2);
  expect(refreshes[0]!).toBeLessThan(first.exp * 1000);
  expect(refreshes[1]!).toBeGreaterThanOrEqual(first.exp * 1000);
  expect(seen.refreshedHow).toEqual(['reconnect']);
  await sender.send(room, 'on the second token');
  expect((await log.waitFor(room, 2)).map((m) => m.content)).toEqual(['on the first token', 'on the second token']);
  expect(seen.closed).toEqual([]);
  await client.close();
}, 60_000);

test('without a refresher, a token with less than the notice left is announced and the session ends at its exp', async () => {
  const user = system.user('no-refresher');
  // Within the notice: the gateway pushes token_expiring halfway through what the token has left.
  const exp = Math.floor(Date.now() / 1000) + NOTICE_S - 3;
  const { client, seen } = await watchedClient({ token: await system.token(user, { expiresIn: exp }) });
  await waitFor(() => seen.notices.length > 0, 'the token_expiring push', 5000);
  expect(seen.notices).toEqual([exp * 1000]);
  await waitFor(() => seen.closed.length > 0, 'the session end', 15_000);
  expect(seen.closed).toEqual([CloseCode.AUTH_FAILED]);
  expect(client.state).toBe('closed');
}, 30_000);
