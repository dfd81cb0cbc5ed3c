import { fromJson, toJson } from './proto-json';
import { ErrorCode, RoomKind, type ServerFrame } from './protocol';

test('a ClientFrame goes out in the canonical proto3 JSON form: lowerCamel names, enum names, 64-bit integers as strings', () => {
  const frame = { requestId: 3, join: { room: { kind: RoomKind.ROOM_KIND_LIVE, id: 'stream-1' }, sinceSeq: 12, epoch: undefined } };
  expect(toJson(frame, 'ClientFrame')).toEqual({ requestId: 3, join: { room: { kind: 'ROOM_KIND_LIVE', id: 'stream-1' }, sinceSeq: '12' } });
  const terms = { setRoomSettings: { room: { kind: RoomKind.ROOM_KIND_LIVE, id: 'r' }, blockedTerms: { terms: ['a', 'b'] }, blockedTermsAction: 2 } };
  expect(toJson(terms, 'ClientFrame')).toEqual({
    setRoomSettings: { room: { kind: 'ROOM_KIND_LIVE', id: 'r' }, blockedTerms: { terms: ['a', 'b'] }, blockedTermsAction: 'FILTER_ACTION_MASK' },
  });
});

test('a ServerFrame is read in either field name form, with enum names or numbers and 64-bit integers as strings or numbers', () => {
  const frame = fromJson<ServerFrame>(
    { request_id: 2, ack: { room: { kind: 'ROOM_KIND_PRIVATE', id: 'a-b' }, seq: '7', created_at_ms: 1700000000000, duplicate: true } },
    'ServerFrame',
  );
  expect(frame.requestId).toBe(2);
  expect(frame.body).toBe('ack');
  expect(frame.ack).toMatchObject({ room: { kind: RoomKind.ROOM_KIND_PRIVATE, id: 'a-b' }, seq: 7, createdAtMs: 1700000000000, duplicate: true });
  // Defaults of the generated classes, as the binary decoder gives them.
  expect(frame.ack!.id).toBe('');
  expect(fromJson<ServerFrame>({ error: { code: 6, retryAfterMs: 250 } }, 'ServerFrame').error).toMatchObject({
    code: ErrorCode.ERROR_CODE_RATE_LIMITED,
    message: '',
    retryAfterMs: 250,
  });
});

test('repeated messages become instances, and an enum name this SDK does not know reads as the default', () => {
  const frame = fromJson<ServerFrame>(
    {
      batch: {
        room: { kind: 'ROOM_KIND_LIVE', id: 'r' },
        messages: [
          { seq: '1', kind: 'MESSAGE_KIND_FUTURE' },
          { seq: '2', kind: 'MESSAGE_KIND_GIFT', gift: { giftId: 'rose', count: 2, value: '10' } },
        ],
      },
    },
    'ServerFrame',
  );
  expect(frame.batch!.messages!.map((m) => [m.seq, m.kind, m.gift?.value ?? null])).toEqual([
    [1, 0, null],
    [2, 2, 10],
  ]);
  expect(frame.batch!.messages![0]!.content).toBe('');
});
