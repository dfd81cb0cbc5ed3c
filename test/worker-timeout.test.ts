// A worker that takes a request and never answers: the gateway gives up after REQUEST_TIMEOUT_MS
// and tells the client UNAVAILABLE (retry), and the connection goes on working.
import { ErrorCode } from '@lomi/client';
import { connectNats, createLogger, createSubjects, QueueGroup } from '@lomi/common';
import { startSystem, type TestSystem } from '@lomi/testkit';

let system: TestSystem;
let nc: Awaited<ReturnType<typeof connectNats>>;

beforeAll(async () => {
  // Short enough to wait out, long enough that the join (a new room's first seq lease is two
  // Postgres transactions) answers in time on a busy CI machine.
  system = await startSystem({ gateways: 1, moderationWorkers: 0, env: { REQUEST_TIMEOUT_MS: '2000' } });
  nc = await connectNats(system.env.NATS_URL!, 'silent-moderation-worker', createLogger('test', 'silent'));
  // Takes every moderation command and answers none.
  nc.subscribe(createSubjects(system.namespace).commands.moderation, { queue: QueueGroup.MODERATION_WORKERS });
  await nc.flush();
});
afterAll(async () => {
  await nc.close();
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
