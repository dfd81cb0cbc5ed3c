// Replies that carry messages must fit in one NATS message: the prefix that fits is sent and the
// asker continues from its end.
import type { Bus } from '@lomi/bus';
import { chat, RoomKind, type ChatMessage } from '@lomi/protocol';
import { messageBudget, prefixWithin } from './payload';

const message = (seq: number, content: string) =>
  chat.ChatMessage.create({ room: { kind: RoomKind.ROOM_KIND_LIVE, id: 'r' }, seq, content, senderId: 'u' }) as ChatMessage;
const size = (m: ChatMessage) => chat.ChatMessage.encode(m).finish().length + 8;

describe('prefixWithin', () => {
  const messages = [message(1, 'a'.repeat(100)), message(2, 'b'.repeat(100)), message(3, 'c'.repeat(100))];
  const each = size(messages[0]!);

  it('keeps every message when all fit, exactly at the budget too', () => {
    expect(prefixWithin(messages, 3 * each)).toBe(messages);
  });

  it('cuts before the first message that would overflow', () => {
    expect(prefixWithin(messages, 3 * each - 1).map((m) => m.seq)).toEqual([1, 2]);
    expect(prefixWithin(messages, each).map((m) => m.seq)).toEqual([1]);
    expect(prefixWithin(messages, each - 1)).toEqual([]);
  });

  it('never skips a large message to fit a later small one', () => {
    const mixed = [message(1, 'x'), message(2, 'y'.repeat(1000)), message(3, 'z')];
    expect(prefixWithin(mixed, 200).map((m) => m.seq)).toEqual([1]);
  });
});

describe('messageBudget', () => {
  it("leaves room for the reply's envelope within the bus's largest payload", () => {
    expect(messageBudget({ maxPayload: 1024 * 1024 } as Bus)).toBe(1024 * 1024 - 4096);
  });
});
