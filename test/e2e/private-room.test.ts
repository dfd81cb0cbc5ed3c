// A private room belongs to its two members: they talk, everyone else is refused and learns nothing.
import { ErrorCode, LomiError, RoomKind } from '@lomi/client';
import { MessageLog } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 2, messageWorkers: 2 });
});
afterAll(() => system.stop());

async function refusal(p: Promise<unknown>): Promise<LomiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LomiError);
  return err as LomiError;
}

test("A's message reaches B on another gateway", async () => {
  const room = await system.createPrivateRoom(system.user('pa'), system.user('pb'));
  const a = await system.connect(system.user('pa'), { gateway: 0 });
  const b = await system.connect(system.user('pb'), { gateway: 1 });
  const logB = new MessageLog(b);
  await a.join(room);
  await b.join(room);
  const ack = await a.send(room, 'hi B');
  const [got] = await logB.waitFor(room, 1);
  expect(got!.content).toBe('hi B');
  expect(got!.senderId).toBe(system.user('pa'));
  expect(Number(got!.seq)).toBe(Number(ack.seq));
});

test('creating the same conversation twice returns the same room', async () => {
  const [x1, x2] = [system.user('x1'), system.user('x2')];
  const first = await system.api('POST', '/api/v1/conversations', { user_a: x1, user_b: x2 });
  const again = await system.api('POST', '/api/v1/conversations', { user_a: x2, user_b: x1 });
  expect(first.status).toBe(201);
  expect(again.status).toBe(200);
  expect(again.body.id).toBe(first.body.id);
});

test('a non-member is refused on join, send and history, and nothing is stored', async () => {
  const room = await system.createPrivateRoom(system.user('qa'), system.user('qb'));
  const a = await system.connect(system.user('qa'));
  await a.join(room);
  await a.send(room, 'only for qb');
  const c = await system.connect(system.user('qc'), { gateway: 1 });
  const logC = new MessageLog(c);

  const onJoin = await refusal(c.join(room, { sinceSeq: 0 }));
  expect(onJoin.code).toBe(ErrorCode.ERROR_CODE_FORBIDDEN);
  const onSend = await refusal(c.send(room, 'let me in'));
  expect(onSend.code).toBe(ErrorCode.ERROR_CODE_FORBIDDEN);
  const onHistory = await refusal(c.history(room));
  expect(onHistory.code).toBe(ErrorCode.ERROR_CODE_FORBIDDEN);

  // A conversation that does not exist gets the very same answer.
  const missing = await refusal(c.join({ kind: RoomKind.ROOM_KIND_PRIVATE, id: 'no-such-conversation' }));
  expect(missing.code).toBe(onJoin.code);
  expect(missing.message).toBe(onJoin.message);

  const history = await a.history(room);
  expect(history.messages!.map((m) => m.content)).toEqual(['only for qb']);
  expect(logC.messages).toHaveLength(0);
  expect(await c.ping()).toBeGreaterThan(0);
});
