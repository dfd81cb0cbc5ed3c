// Slow mode: with a live room's slow_mode_s set, a viewer's message less than that long after
// their previous one is refused with RATE_LIMITED and the time left, and nothing is stored; the
// broadcaster, moderators and staff are exempt. Enforced by the same Redis script as the rate
// limit, so both gateways and both message workers see one clock.
import { ErrorCode, type LomiClient, type Room } from '@lomi/client';
import type { lomi } from '@lomi/protocol';
import { within } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 2, messageWorkers: 2 });
});
afterAll(() => system.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setSettings(client: LomiClient, room: Room, settings: Omit<lomi.chat.v1.ISetRoomSettings, 'room'>) {
  return (await client.request({ setRoomSettings: { room, ...settings } })).roomSettings!;
}

/** The refusal of a send, or a failure if it was accepted. */
async function refusal(send: Promise<unknown>): Promise<{ code: number; retryAfterMs: number; message: string }> {
  try {
    await send;
  } catch (err) {
    return err as { code: number; retryAfterMs: number; message: string };
  }
  throw new Error('the send was accepted');
}

test("a viewer's second message within the interval is refused with the time left and not stored, on either gateway", async () => {
  const room = await system.createLiveRoom(system.user('wa-host'));
  const host = await system.connect(system.user('wa-host'));
  await setSettings(host, room, { slowModeS: 3 });
  const viewerId = system.user('wa-viewer');
  const onA = await system.connect(viewerId, { gateway: 0, join: room });
  const onB = await system.connect(viewerId, { gateway: 1, join: room });

  // Once the change reached the workers, a probe's second message is refused.
  const probe = await system.connect(system.user('wa-probe'), { join: room });
  await within(1000, () => expect(probe.send(room, 'probe')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_RATE_LIMITED }));
  const first = await onA.send(room, 'first', 'c-1');
  const early = await refusal(onB.send(room, 'too soon', 'c-2'));
  expect(early).toMatchObject({ code: ErrorCode.ERROR_CODE_RATE_LIMITED, message: expect.stringContaining('slow mode: one message every 3 s') });
  expect(early.retryAfterMs).toBeGreaterThan(0);
  expect(early.retryAfterMs).toBeLessThanOrEqual(3000);
  // A retry of the stored message is still answered with its seq, not refused.
  expect(await onB.send(room, 'first', 'c-1')).toMatchObject({ seq: first.seq, duplicate: true });

  await sleep(1000);
  const later = await refusal(onA.send(room, 'still too soon', 'c-3'));
  expect(later.code).toBe(ErrorCode.ERROR_CODE_RATE_LIMITED);
  expect(later.retryAfterMs).toBeLessThan(early.retryAfterMs);
  await sleep(later.retryAfterMs + 20);
  await onB.send(room, 'second', 'c-4');
  // The refused messages left nothing behind.
  const { messages } = await host.history(room);
  expect(messages!.filter((m) => m.senderId === viewerId).map((m) => m.content)).toEqual(['first', 'second']);
});

test('the broadcaster, moderators and staff are exempt; turning slow mode off lifts it within a second', async () => {
  const room = await system.createLiveRoom(system.user('wb-host'));
  const host = await system.connect(system.user('wb-host'), { gateway: 1, join: room });
  const [modId, staffId, viewerId] = [system.user('wb-mod'), system.user('wb-staff'), system.user('wb-viewer')];
  await host.grantModerator(room, modId);
  await system.api('POST', '/api/v1/staff/grant', { user_id: staffId });
  await setSettings(host, room, { slowModeS: 60 });
  const [mod, staff, viewer] = await Promise.all([
    system.connect(modId, { gateway: 0, join: room }),
    system.connect(staffId, { gateway: 0, join: room }),
    system.connect(viewerId, { gateway: 0, join: room }),
  ]);

  await within(1000, () => expect(viewer.send(room, 'again')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_RATE_LIMITED }));
  for (const exempt of [host, mod, staff]) {
    for (let i = 0; i < 3; i++) await exempt.send(room, `exempt ${i}`);
  }

  await setSettings(host, room, { slowModeS: 0 });
  await within(1000, () => viewer.send(room, 'free again'));
  await viewer.send(room, 'and again');
});

test('a lowered interval applies to the next message at once', async () => {
  const room = await system.createLiveRoom(system.user('wc-host'));
  const host = await system.connect(system.user('wc-host'));
  await setSettings(host, room, { slowModeS: 120 });
  const viewer = await system.connect(system.user('wc-viewer'), { gateway: 1, join: room });
  const probe = await system.connect(system.user('wc-probe'), { join: room });
  await within(1000, () => expect(probe.send(room, 'probe')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_RATE_LIMITED }));
  await viewer.send(room, 'one');
  expect((await refusal(viewer.send(room, 'two'))).retryAfterMs).toBeGreaterThan(100_000);
  // Under the old interval this send would wait two minutes.
  await setSettings(host, room, { slowModeS: 1 });
  await within(2000, () => viewer.send(room, 'four'));
});
