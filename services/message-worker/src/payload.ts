import { chat, type ChatMessage } from '@lomi/protocol';
import type { Bus } from '@lomi/bus';

// Room for the reply's envelope (room, epoch, ids) and the per-message framing bytes.
const ENVELOPE_BYTES = 4096;
const PER_MESSAGE_BYTES = 8;

/** Bytes of messages one NATS reply can carry; a bigger reply would fail to publish at all. */
export function messageBudget(bus: Bus): number {
  return bus.maxPayload - ENVELOPE_BYTES;
}

/** The longest prefix of `messages` whose encoding fits in `budget` bytes. */
export function prefixWithin<T extends ChatMessage>(messages: T[], budget: number): T[] {
  let used = 0;
  for (let i = 0; i < messages.length; i++) {
    used += chat.ChatMessage.encode(messages[i] as T).finish().length + PER_MESSAGE_BYTES;
    if (used > budget) return messages.slice(0, i);
  }
  return messages;
}
