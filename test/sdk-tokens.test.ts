// A session outlives its token when the app gives the SDK a refresher: a connection closed with
// 4401 (the token expired) is reconnected with a new token from `refreshToken()`, its rooms are
// joined again with nothing missed, and the app sees no close. (The in-band path — RefreshToken
// on a token_expiring push — needs the gateway's handling of `refresh`, which is not there yet.)
import WebSocket from 'ws';
import { CloseCode, LomiClient } from '@lomi/client';
import { MessageLog, startSystem, waitFor, type TestSystem } from '@lomi/testkit';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem();
});
afterAll(() => system.stop());

test('a token that expires while connected is refreshed on the 4401 and the session goes on', async () => {
  const user = system.user('refreshed');
  const room = await system.createLiveRoom(system.user('token-caster'));
  const sender = await system.connect(system.user('token-sender'), { join: room });
  // Past the SDK's own margin (it refreshes a token that expires within 10 s before using it),
  // so the first socket runs on this token until the server closes it.
  const exp = Math.floor(Date.now() / 1000) + 12;
  const refreshes: number[] = [];
  const client = await LomiClient.connect({
    url: system.wsUrl(),
    token: await system.token(user, { expiresIn: exp }),
    refreshToken: async () => {
      refreshes.push(Date.now());
      return system.token(user);
    },
    WebSocket: WebSocket as never,
    reconnectWindowMs: 100,
    // The server checks expiry when the client sends: the heartbeat's pings are enough.
    pingIntervalMs: 500,
  });
  const closeCodes: number[] = [];
  const refreshedHow: string[] = [];
  const closed: number[] = [];
  client.on('reconnecting', (_attempt, _delay, code) => closeCodes.push(code));
  client.on('tokenRefreshed', (how) => refreshedHow.push(how));
  client.on('close', (code) => closed.push(code));
  const log = new MessageLog(client);
  await client.join(room);
  await sender.send(room, 'on the first token');
  expect(refreshes).toEqual([]);

  await waitFor(() => closeCodes.length > 0, 'the 4401 close', 20_000);
  expect(closeCodes[0]).toBe(CloseCode.AUTH_FAILED);
  await waitFor(() => client.state === 'connected', 'reconnected with the new token');
  expect(refreshes.length).toBe(1);
  expect(refreshes[0]!).toBeGreaterThanOrEqual(exp * 1000);
  expect(refreshedHow).toEqual(['reconnect']);
  await sender.send(room, 'on the second token');
  expect((await log.waitFor(room, 2)).map((m) => m.content)).toEqual(['on the first token', 'on the second token']);
  expect(closed).toEqual([]);
  await client.close();
}, 40_000);
