// Blocking in private rooms, over the real wire with two gateways and two message workers: the
// blocked user's sends to the conversation are refused with FORBIDDEN (told no more), the
// conversation leaves the blocker's list, the blocker may still write; an unblock restores both;
// a block holds for a conversation created after it.
import { ErrorCode } from '@lomi/client';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ gateways: 2, messageWorkers: 2 });
});
afterAll(() => system.stop());

// The refusal does not say why: the blocked user is not told of the block.
const forbidden = { code: ErrorCode.ERROR_CODE_FORBIDDEN, message: expect.stringMatching(/: you may not send to this conversation$/) };

test('a blocked user cannot send, the blocker no longer lists the conversation, and an unblock restores both', async () => {
  const [aliceId, bobId] = [system.user('b-alice'), system.user('b-bob')];
  const room = await system.createPrivateRoom(aliceId, bobId);
  const alice = await system.connect(aliceId, { gateway: 0 });
  const bob = await system.connect(bobId, { gateway: 1 });
  await bob.send(room, 'hi');
  const listed = async (client: typeof alice) => (await client.listConversations()).conversations!.map((c) => c.room!.id);
  expect(await listed(alice)).toContain(room.id);

  await alice.request({ blockUser: { userId: bobId } });
  // Blocking twice is fine.
  await alice.request({ blockUser: { userId: bobId } });
  // Every worker refuses (the next sends may land on either message worker).
  for (let i = 0; i < 4; i++) await expect(bob.send(room, `still there? ${i}`)).rejects.toMatchObject(forbidden);
  expect(await listed(alice)).not.toContain(room.id);
  // Bob still has it, and Alice may still write to him (she chose to).
  expect(await listed(bob)).toContain(room.id);
  await alice.send(room, 'last word');
  // Nothing of the refused sends was stored.
  const contents = (await alice.history(room)).messages!.map((m) => m.content);
  expect(contents).toEqual(['hi', 'last word']);

  await alice.request({ unblockUser: { userId: bobId } });
  await bob.send(room, 'sorry');
  expect(await listed(alice)).toContain(room.id);
});

test('a block made before the conversation exists holds once it is created; bad targets are refused', async () => {
  const [carolId, daveId] = [system.user('b-carol'), system.user('b-dave')];
  const carol = await system.connect(carolId, { gateway: 1 });
  await expect(carol.request({ blockUser: { userId: carolId } })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
  await expect(carol.request({ blockUser: { userId: '' } })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
  await carol.request({ blockUser: { userId: daveId } });
  const room = await system.createPrivateRoom(carolId, daveId);
  const dave = await system.connect(daveId, { gateway: 0 });
  await expect(dave.send(room, 'hello?')).rejects.toMatchObject(forbidden);
  await carol.send(room, 'hi dave');
  // Unblocking someone never blocked is fine too.
  await dave.request({ unblockUser: { userId: carolId } });
  await expect(dave.send(room, 'hello again?')).rejects.toMatchObject(forbidden);
});
