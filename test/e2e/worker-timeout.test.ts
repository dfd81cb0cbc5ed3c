// A worker that takes a request and never answers: the gateway gives up after REQUEST_TIMEOUT_MS
// and tells the client UNAVAILABLE (retry), and the connection goes on working.
import { ErrorCode } from '@lomi/client';
import { connectNatsBus, createSubjects, QueueGroup, type Bus } from '@lomi/bus';
import { createLogger } from '@lomi/service-runtime';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
let bus: Bus;

beforeAll(async () => {
  // Short enough to wait out, long enough that the join (a new room's first seq lease is two
  // Postgres transactions) answers in time on a busy CI machine.
  system = await startSystem({ gateways: 1, moderationWorkers: 0, env: { REQUEST_TIMEOUT_MS: '2000' } });
  bus = await connectNatsBus(system.env.NATS_URL!, 'silent-moderation-worker', createLogger('test', 'silent'), { requestTimeoutMs: 2000 });
  // Takes every moderation command and answers none.
  bus.subscribe(createSubjects(system.namespace).commands.moderation, () => undefined, { queue: QueueGroup.MODERATION_WORKERS });
  await bus.flush();
});
afterAll(async () => {
  await bus.drain();
  await system.stop();
});

test('a command whose worker never answers comes back UNAVAILABLE after the request timeout, and the socket carries on', async () => {
  const room = await system.createLiveRoom(system.user('quiet-host'));
  const host = await system.connect(system.user('quiet-host'));
  await host.join(room);
  await expect(host.pin(room, { text: 'anyone?' }, 600)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
  // Other workers still answer on the same connection.
  expect(Number((await host.send(room, 'still here')).seq)).toBeGreaterThan(0);
});
