// Gifts: validated against the catalogue, stored and ordered like any message, in live and
// private rooms; a live stream's totals and top gifters are readable over HTTP and final once
// the stream ended.
import { ErrorCode, MessageKind } from '@lomi/client';
import { MessageLog, waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({ env: { GIFT_CATALOG: JSON.stringify({ rose: 1, heart: 5, rocket: 500 }) } });
});
afterAll(() => system.stop());

async function userGet(path: string, userId: string) {
  const res = await fetch(`${system.httpUrl()}${path}`, { headers: { authorization: `Bearer ${await system.token(userId)}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('an unknown gift or a bad count is refused and nothing is stored', async () => {
  const room = await system.createLiveRoom(system.user('g-host0'));
  const viewer = await system.connect(system.user('g-fan0'));
  await viewer.join(room);
  await expect(viewer.sendGift(room, 'unicorn', 1)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
  await expect(viewer.sendGift(room, 'rose', 0)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
  expect((await viewer.history(room)).messages).toHaveLength(0);
});

test('live gifts reach the room and add up to per-stream totals and top gifters, final after the end', async () => {
  const host = system.user('g-host');
  const room = await system.createLiveRoom(host);
  const [ann, ben] = [system.user('g-ann'), system.user('g-ben')];
  const annClient = await system.connect(ann);
  const benClient = await system.connect(ben);
  const hostClient = await system.connect(host);
  const log = new MessageLog(hostClient);
  await Promise.all([annClient.join(room), benClient.join(room), hostClient.join(room)]);

  await annClient.sendGift(room, 'rose', 10);
  await benClient.sendGift(room, 'rocket', 1);
  await annClient.sendGift(room, 'heart', 2);
  await benClient.send(room, 'not a gift');
  const [rose] = await log.waitFor(room, 4);
  expect(rose).toMatchObject({ kind: MessageKind.MESSAGE_KIND_GIFT, senderId: ann, gift: { giftId: 'rose', count: 10 } });
  expect(Number(rose!.gift!.value)).toBe(10);

  // 64-bit numbers are strings, as in the proto3 JSON mapping.
  const expected = {
    room: { kind: 'ROOM_KIND_LIVE', id: room.id },
    giftCount: '13',
    giftValue: '520',
    topGifters: [
      { userId: ben, giftCount: '1', giftValue: '500' },
      { userId: ann, giftCount: '12', giftValue: '20' },
    ],
  };
  const path = `/api/v1/live/${room.id}/gifts`;
  // Totals are kept by the persister, a moment behind the chat.
  await waitFor(async () => (await system.api('GET', path)).body.giftValue === '520', 'the gift totals');
  expect((await system.api('GET', path)).body).toEqual(expected);
  expect((await userGet(`${path}?limit=1`, system.user('g-anyone'))).body.topGifters).toEqual([expected.topGifters[0]]);

  expect((await system.api('POST', `/api/v1/live/${room.id}/end`)).status).toBe(200);
  await expect(annClient.sendGift(room, 'rose', 1)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_ROOM_CLOSED });
  expect((await userGet(path, system.user('g-anyone'))).body).toEqual(expected);
  expect((await system.api('GET', '/api/v1/live/no-such-stream/gifts')).status).toBe(404);
});

test('gifts in a private room: same shape, delivered to the other member, in history', async () => {
  const [a, b] = [system.user('g-pa'), system.user('g-pb')];
  const room = await system.createPrivateRoom(a, b);
  const sender = await system.connect(a);
  const receiver = await system.connect(b);
  const log = new MessageLog(receiver);
  await sender.join(room);
  await receiver.join(room);
  const ack = await sender.sendGift(room, 'heart', 3);
  const [gift] = await log.waitFor(room, 1);
  expect(gift).toMatchObject({ kind: MessageKind.MESSAGE_KIND_GIFT, senderId: a, gift: { giftId: 'heart', count: 3 } });
  expect(Number(gift!.gift!.value)).toBe(15);
  expect(Number(gift!.seq)).toBe(Number(ack.seq));
  expect((await receiver.history(room)).messages!.map((m) => m.gift?.giftId)).toEqual(['heart']);
  await expect(sender.sendGift(room, 'unicorn', 1)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_BAD_REQUEST });
});
