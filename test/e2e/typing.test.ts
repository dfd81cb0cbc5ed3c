// Typing indicators in private rooms: pushed to the other member only, throttled, ending by themselves
// or with the typist's socket, and refused to anyone but the two members.
import { ErrorCode, RoomKind, type LomiClient, type Room } from '@lomi/client';
import { startSystem, type TestSystem } from '../support/system';

const TIMEOUT_MS = 2000;
let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({
    gateways: 2,
    env: { TYPING_TIMEOUT_MS: String(TIMEOUT_MS), TYPING_PUSH_INTERVAL_MS: '1000', PRESENCE_SWEEP_MS: '100' },
  });
});
afterAll(() => system.stop());

function setTyping(client: LomiClient, room: Room, typing: boolean) {
  return client.request({ typing: { room, typing } });
}

/** Two members on different gateways, both in their conversation. */
async function pair(a: string, b: string) {
  const room = await system.createPrivateRoom(system.user(a), system.user(b));
  const typist = await system.connect(system.user(a), { gateway: 0 });
  const reader = await system.connect(system.user(b), { gateway: 1 });
  await typist.join(room);
  await reader.join(room);
  const events = () =>
    system
      .pushes(reader)
      .of('typing')
      .filter((e) => e.userId === system.user(a));
  return { room, typist, reader, events };
}

test('typing 50 times a second makes one push a second; "stopped" is pushed at once', async () => {
  const { room, typist, reader, events } = await pair('ta', 'tb');
  const started = Date.now();
  while (Date.now() - started < 1900) {
    expect((await setTyping(typist, room, true)).ok).toBeDefined();
    await new Promise((r) => setTimeout(r, 20));
  }
  await system.pushes(reader).waitFor('typing', (e) => e.typing === true);
  const typingPushes = events().filter((e) => e.typing);
  expect(typingPushes.length).toBeGreaterThanOrEqual(1);
  expect(typingPushes.length).toBeLessThanOrEqual(2);
  expect(typingPushes[0]!.room).toMatchObject({ kind: RoomKind.ROOM_KIND_PRIVATE, id: room.id });

  const stoppedAt = Date.now();
  await setTyping(typist, room, false);
  await system.pushes(reader).waitFor('typing', (e) => e.typing === false && e.userId === system.user('ta'));
  expect(Date.now() - stoppedAt).toBeLessThan(500);
  expect(events().filter((e) => !e.typing)).toHaveLength(1);
  // The typist's own sockets hear nothing of their own typing.
  expect(system.pushes(typist).of('typing')).toHaveLength(0);
});

test('typing without a renewal ends by itself after the timeout', async () => {
  const { room, typist, reader } = await pair('tc', 'td');
  await setTyping(typist, room, true);
  const typedAt = Date.now();
  await system.pushes(reader).waitFor('typing', (e) => e.typing === true);
  await system.pushes(reader).waitFor('typing', (e) => e.typing === false, { timeoutMs: TIMEOUT_MS + 2000 });
  const elapsed = Date.now() - typedAt;
  expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
  expect(elapsed).toBeLessThan(TIMEOUT_MS + 1000);
});

test("typing ends when the typist's socket closes", async () => {
  const { room, typist, reader } = await pair('te', 'tf');
  await setTyping(typist, room, true);
  await system.pushes(reader).waitFor('typing', (e) => e.typing === true);
  const closedAt = Date.now();
  await typist.close();
  await system.pushes(reader).waitFor('typing', (e) => e.typing === false);
  // Well before the timeout would have ended it.
  expect(Date.now() - closedAt).toBeLessThan(TIMEOUT_MS / 2);
});

test('a non-member, a missing conversation and a live room are refused', async () => {
  const { room } = await pair('tg', 'th');
  const outsider = await system.connect(system.user('ti'));
  const refusal = (r: Room) =>
    setTyping(outsider, r, true).then(
      () => undefined,
      (e: unknown) => e,
    );

  const notMember = await refusal(room);
  expect(notMember).toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN, message: expect.stringMatching(/not a member of this conversation/) });
  // The same answer for a conversation that does not exist: ids cannot be probed.
  expect(await refusal({ kind: RoomKind.ROOM_KIND_PRIVATE, id: 'no-such-conversation' })).toMatchObject({
    code: ErrorCode.ERROR_CODE_FORBIDDEN,
    message: (notMember as Error).message,
  });
  const live = await system.createLiveRoom(system.user('caster'));
  expect(await refusal(live)).toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
});
