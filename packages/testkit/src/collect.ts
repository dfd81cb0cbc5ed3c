import type { ChatMessage, LomiClient, Room } from '@lomi/client';
import { roomKey } from '@lomi/client';

/** Records every room message a client receives, in arrival order. */
export class MessageLog {
  readonly messages: ChatMessage[] = [];
  private waiters: { room: string; count: number; resolve: () => void }[] = [];

  constructor(client: LomiClient) {
    client.on('message', (m) => {
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (this.of(w.room).length < w.count) return true;
        w.resolve();
        return false;
      });
    });
  }

  private of(key: string): ChatMessage[] {
    return this.messages.filter((m) => roomKey(m.room ?? {}) === key);
  }

  in(room: Room): ChatMessage[] {
    return this.of(roomKey(room));
  }

  seqs(room: Room): number[] {
    return this.in(room).map((m) => Number(m.seq));
  }

  /** Resolves once `count` messages of `room` have arrived; rejects after `timeoutMs`. */
  waitFor(room: Room, count: number, timeoutMs = 20_000): Promise<ChatMessage[]> {
    const key = roomKey(room);
    if (this.of(key).length >= count) return Promise.resolve(this.of(key));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`got ${this.of(key).length} of ${count} messages in ${key}`)), timeoutMs);
      this.waiters.push({
        room: key,
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.of(key));
        },
      });
    });
  }
}

/** The seqs of a page, history or recovery's messages, as numbers, in their order. */
export const messageSeqs = (messages: { seq?: unknown }[] | null | undefined): number[] => (messages ?? []).map((m) => Number(m.seq));
