import { RoomKind } from '@lomi/protocol';
import { createKeys, OUTBOX_SHARDS, outboxShardOf } from './keys';

const keys = createKeys('ns');
const live = { kind: RoomKind.ROOM_KIND_LIVE, id: 'stream-1' };
const dm = { kind: RoomKind.ROOM_KIND_PRIVATE, id: 'a-b' };

test("a room's keys share its hash tag, with the kind spelt live or dm", () => {
  expect(keys.history(live)).toBe('ns:live:{stream-1}:history');
  expect(keys.outbox(dm)).toBe('ns:dm:{a-b}:outbox');
  expect(keys.dedup(dm, 'u1')).toBe('ns:dm:{a-b}:dedup:u1');
  expect(keys.userConnections('u1')).toBe('ns:user:{u1}:connections');
});

test('a room without a kind has no keys', () => {
  expect(() => keys.history({ id: 'x' })).toThrow('room without a kind');
});

test("an outbox key names its room; other keys and other namespaces' keys name none", () => {
  expect(keys.roomOfOutbox(keys.outbox(live))).toEqual(live);
  expect(keys.roomOfOutbox(keys.outbox(dm))).toEqual(dm);
  expect(keys.roomOfOutbox(keys.history(dm))).toBeUndefined();
  expect(keys.roomOfOutbox(createKeys('other').outbox(dm))).toBeUndefined();
});

test('outbox shards are stable and spread over every shard', () => {
  const key = keys.outbox(live);
  expect(outboxShardOf(key)).toBe(outboxShardOf(key));
  const shards = new Set(Array.from({ length: 2000 }, (_, i) => outboxShardOf(keys.outbox({ kind: RoomKind.ROOM_KIND_LIVE, id: `r${i}` }))));
  expect(shards.size).toBe(OUTBOX_SHARDS);
  expect(Math.max(...shards)).toBe(OUTBOX_SHARDS - 1);
});
