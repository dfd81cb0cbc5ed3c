// A NATS outage must not leave a room broken on a gateway: a join during the outage is refused
// with UNAVAILABLE (retry), and once NATS is back every room works on every gateway, also the
// one whose first subscription to the room was attempted while NATS was down.
import { ErrorCode } from '@lomi/client';
import { MessageLog, startNatsServer, waitFor, type NatsServer } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let nats: NatsServer;
let system: TestSystem;

beforeAll(async () => {
  nats = await startNatsServer();
  system = await startSystem({ gateways: 2, env: { NATS_URL: nats.url, REQUEST_TIMEOUT_MS: '1000' } });
});
afterAll(async () => {
  await system?.stop();
  await nats?.dispose();
});

test('a join during a NATS outage is UNAVAILABLE, and the room works on both gateways once NATS is back', async () => {
  const room = await system.createLiveRoom(system.user('caster'));
  const onA = await system.connect(system.user('on-a'), { gateway: 0 });
  const logA = new MessageLog(onA);
  await onA.join(room);
  const onB = await system.connect(system.user('on-b'), { gateway: 1 });
  const logB = new MessageLog(onB);

  await nats.stop();
  // Gateway B has no subscription to the room yet: this join is the one that must subscribe.
  await expect(onB.join(room)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
  await nats.start();

  // NATS is back for the gateways and the workers once a worker answers through gateway B.
  await waitFor(
    async () =>
      (
        await fetch(`${system.httpUrl(1)}/api/v1/live/${room.id}/viewers`, {
          headers: { authorization: `Bearer ${system.serviceToken}` },
        })
      ).status === 200,
    'a worker answering through gateway B',
    20_000,
  );

  await onB.join(room);
  const lateOnA = await system.connect(system.user('late-a'), { gateway: 0 });
  const logLate = new MessageLog(lateOnA);
  await lateOnA.join(room);
  for (let i = 1; i <= 3; i++) await onB.send(room, `after-${i}`);
  for (const log of [logA, logB, logLate]) {
    expect((await log.waitFor(room, 3)).map((m) => m.content)).toEqual(['after-1', 'after-2', 'after-3']);
  }
});
