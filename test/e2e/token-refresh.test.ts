// A connection lives as long as its token, and a client may extend it in band: token_expiring is
// pushed TOKEN_EXPIRING_NOTICE_S before exp, `refresh` with a new token of the same user moves
// the end, and a token that runs out closes the socket with 4401 even if the client never sends.
import { CloseCode, Encoding, ErrorCode } from '@lomi/client';
import { RawSocket, waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

const NOTICE_S = 2;
let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ env: { TOKEN_EXPIRING_NOTICE_S: String(NOTICE_S) } });
});
afterAll(() => system.stop());

/** A raw JSON socket of `user` whose token expires `inS` seconds from now (whole seconds, as JWT exp is). */
async function openExpiring(user: string, inS: number): Promise<{ socket: RawSocket; exp: number }> {
  const exp = Math.floor(Date.now() / 1000) + inS;
  const socket = await RawSocket.open(system.wsUrl(0), await system.token(system.user(user), { expiresIn: exp }), Encoding.JSON);
  return { socket, exp };
}

const notices = (socket: RawSocket) => socket.frames.filter((f) => f.tokenExpiring);

test('a passive viewer is told before its token expires, then closed with 4401 at expiry without ever sending', async () => {
  const { socket, exp } = await openExpiring('passive', NOTICE_S + 2);
  await waitFor(() => notices(socket).length > 0, 'token_expiring', 5000);
  const noticedAt = Date.now();
  expect(Number(notices(socket)[0]!.tokenExpiring!.expiresAtMs)).toBe(exp * 1000);
  expect(exp * 1000 - noticedAt).toBeLessThanOrEqual(NOTICE_S * 1000 + 50);
  await waitFor(() => socket.closed !== undefined, 'the close', 5000);
  expect(socket.closed).toEqual({ code: CloseCode.AUTH_FAILED, reason: 'token expired' });
  expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
  // Once per token: one notice, no other frame.
  expect(socket.frames).toHaveLength(1);
});

test('a socket with less than twice the notice left is told halfway through what it has left, not at once', async () => {
  const { socket, exp } = await openExpiring('hurried', NOTICE_S);
  const openedAt = Date.now();
  await waitFor(() => notices(socket).length > 0, 'token_expiring', 3000);
  // Half of what was left at the upgrade (exp is whole seconds), less the scheduling slack.
  expect(Date.now() - openedAt).toBeGreaterThanOrEqual((exp * 1000 - openedAt) / 2 - 100);
  expect(Date.now()).toBeLessThan(exp * 1000);
  socket.close();
});

test('refresh with a new token of the same user keeps the connection past the old expiry, and its rooms with it', async () => {
  const user = system.user('refresher');
  const room = await system.createLiveRoom(system.user('refresh-host'));
  const { socket, exp } = await openExpiring('refresher', NOTICE_S + 1);
  expect((await socket.request({ requestId: 1, join: { room } }))?.joined).toBeDefined();
  await waitFor(() => notices(socket).length > 0, 'token_expiring', 5000);
  const newExp = exp + 3;
  const refreshed = await socket.request({ requestId: 2, refresh: { token: await system.token(user, { expiresIn: newExp }) } });
  expect(refreshed?.ok).toBeDefined();
  // Past the old expiry the socket is open and still in its room.
  await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 500));
  expect(socket.closed).toBeUndefined();
  expect((await socket.request({ requestId: 3, send: { room, clientMsgId: 'after-refresh', text: 'still here' } }))?.ack).toBeDefined();
  // The new token gets its own notice and its own end.
  await waitFor(() => notices(socket).length === 2, "the new token's notice", 5000);
  expect(Number(notices(socket)[1]!.tokenExpiring!.expiresAtMs)).toBe(newExp * 1000);
  await waitFor(() => socket.closed !== undefined, 'the close', 5000);
  expect(socket.closed?.code).toBe(CloseCode.AUTH_FAILED);
  expect(Date.now()).toBeGreaterThanOrEqual(newExp * 1000);
}, 15_000);

test('refresh with a token of another user, an invalid or an expired one is refused with INVALID_TOKEN and changes nothing', async () => {
  const user = system.user('refused-refresher');
  const { socket, exp } = await openExpiring('refused-refresher', NOTICE_S + 2);
  const attempts = [
    ['another user', await system.token(system.user('someone-else'))],
    ['a forged signature', await system.token(user, { secret: 'y'.repeat(32) })],
    ['garbage', 'not-a-jwt'],
    ['an expired token', await system.token(user, { expiresIn: Math.floor(Date.now() / 1000) - 10 })],
    ['no token', ''],
  ] as const;
  let requestId = 0;
  for (const [what, token] of attempts) {
    const reply = await socket.request({ requestId: ++requestId, refresh: { token } });
    expect({ what, error: reply?.error?.code }).toEqual({ what, error: ErrorCode.ERROR_CODE_INVALID_TOKEN });
  }
  expect((await socket.request({ requestId: ++requestId, ping: {} }))?.pong).toBeDefined();
  // The connection keeps its old token, and ends with it.
  await waitFor(() => socket.closed !== undefined, 'the close', 8000);
  expect(socket.closed?.code).toBe(CloseCode.AUTH_FAILED);
  expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
}, 15_000);
