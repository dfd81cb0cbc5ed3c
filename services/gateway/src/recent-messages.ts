import type { ChatMessage } from '@lomi/protocol';

/** A room's latest consecutive messages, ending at the highest handed to its fan-out, to bring a joiner up to the live edge. */
export class RecentMessages {
  private readonly messages: ChatMessage[] = [];

  constructor(private readonly capacity: number) {}

  remember(message: ChatMessage): void {
    const seq = Number(message.seq);
    const last = this.messages[this.messages.length - 1];
    // After a skipped range or a reset's hole the buffer restarts, so it stays consecutive.
    if (last && Number(last.seq) !== seq - 1) this.messages.length = 0;
    this.messages.push(message);
    if (this.messages.length > this.capacity) this.messages.splice(0, this.messages.length - this.capacity);
  }

  /** Messages (after, until], or undefined if the buffer no longer holds `after + 1`. */
  after(after: number, until: number): ChatMessage[] | undefined {
    if (after >= until) return [];
    const first = this.messages[0];
    if (!first || Number(first.seq) > after + 1) return undefined;
    return this.messages.slice(after + 1 - Number(first.seq), until + 1 - Number(first.seq));
  }

  values(): IterableIterator<ChatMessage> {
    return this.messages.values();
  }
}
