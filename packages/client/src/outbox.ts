// Sends that must not be lost or doubled. Every send goes through the outbox: it stays there until
// the server acks it (resolving with the seq) or refuses it (rejecting with the refusal's class).
// A send made while disconnected waits, and one in flight when the socket dropped is sent again
// on the next socket with the same client_msg_id, which the server stores once. Those uncertain
// sends go one at a time, each after the previous ack, so they are stored in the order made.
import type { Connection } from './connection';
import { DisconnectedError, LomiError, OutboxFullError, RequestTimeoutError, SendTimeoutError } from './errors';
import type { lomi, Room } from './protocol';

/** A send as the persistence hook stores it: enough to send it again after an app restart. */
export interface PersistedSend {
  room: Room;
  clientMsgId: string;
  text?: string;
  gift?: { giftId: string; count: number };
}

/**
 * Optional persistence of unsent messages (e.g. IndexedDB, a file): `load` at start, `save` with
 * every unacked send after each change. Sends restored by `load` report through the client's
 * `restoredSend` event.
 */
export interface OutboxStore {
  load(): PersistedSend[] | Promise<PersistedSend[]>;
  save(sends: PersistedSend[]): void | Promise<void>;
}

type Ack = lomi.chat.v1.ISendAck;

interface Entry {
  send: PersistedSend;
  resolve(ack: Ack): void;
  reject(err: Error): void;
  inFlight: boolean;
  /** Made while disconnected, or in flight when a socket dropped: goes one at a time. */
  uncertain: boolean;
  timeouts: number;
  /** Rejects it with SendTimeoutError when its time is up (none when the timeout is 0). */
  deadline?: ReturnType<typeof setTimeout>;
}

/** An unanswered send on a socket that still answers pings is tried this many times before it rejects. */
const MAX_TIMEOUTS = 3;

export class Outbox {
  private readonly entries: Entry[] = [];

  constructor(
    private readonly connection: Connection,
    private readonly limit: number,
    /** Sends may go out: connected, and every room joined again after a reconnect. */
    private readonly ready: () => boolean,
    /** How long a send may wait for its ack, the outbox included; 0: until the client closes. */
    private readonly timeoutMs: number,
    private readonly store?: OutboxStore,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  /**
   * Queues a send; resolves with its ack, rejects with the server's refusal, the client's close
   * or SendTimeoutError after `timeoutMs` (default: the outbox's).
   */
  add(send: PersistedSend, timeoutMs = this.timeoutMs): Promise<Ack> {
    if (this.entries.length >= this.limit) return Promise.reject(new OutboxFullError(this.limit));
    return new Promise((resolve, reject) => {
      this.entries.push(this.entry(send, { resolve, reject }, !this.ready(), timeoutMs));
      this.persist();
      this.pump();
    });
  }

  /** Puts sends saved by an earlier run ahead of any new one. */
  async restore(report: (send: PersistedSend, outcome: { ack?: Ack; error?: Error }) => void): Promise<void> {
    if (!this.store) return;
    const saved = await this.store.load();
    const restored = saved.map((send) => this.entry(send, { resolve: (ack) => report(send, { ack }), reject: (error) => report(send, { error }) }, true, this.timeoutMs));
    this.entries.unshift(...restored);
    this.pump();
  }

  private entry(send: PersistedSend, outcome: Pick<Entry, 'resolve' | 'reject'>, uncertain: boolean, timeoutMs: number): Entry {
    const entry: Entry = { send, ...outcome, inFlight: false, uncertain, timeouts: 0 };
    if (timeoutMs > 0) entry.deadline = setTimeout(() => this.settle(entry, () => entry.reject(new SendTimeoutError(send.clientMsgId, timeoutMs))), timeoutMs);
    return entry;
  }

  /** The socket dropped: whatever was in flight may or may not be stored; it goes again, in order. */
  dropped(): void {
    for (const e of this.entries) {
      if (e.inFlight) e.uncertain = true;
      e.inFlight = false;
    }
  }

  /** The client closed for good: every unsent message rejects with `error`. */
  fail(error: Error): void {
    for (const e of this.entries.splice(0)) {
      clearTimeout(e.deadline);
      e.reject(error);
    }
    this.persist();
  }

  /** Sends what may go now: in order; after an uncertain send, nothing until it is acked. */
  pump(): void {
    if (!this.ready()) return;
    for (const entry of this.entries) {
      if (entry.inFlight) {
        if (entry.uncertain) return;
        continue;
      }
      this.transmit(entry);
      if (entry.uncertain) return;
    }
  }

  private transmit(entry: Entry): void {
    entry.inFlight = true;
    const { room, clientMsgId, text, gift } = entry.send;
    const body = gift ? { gift } : { text };
    this.connection.request({ send: { room, clientMsgId, ...body } }).then(
      (reply) => this.settle(entry, () => entry.resolve(reply.ack!)),
      (err: Error) => {
        if (err instanceof LomiError) return this.settle(entry, () => entry.reject(err));
        // Not sent, or the socket went before the ack: the next socket sends it again.
        if (err instanceof DisconnectedError) {
          entry.inFlight = false;
          entry.uncertain = true;
          return;
        }
        if (err instanceof RequestTimeoutError && ++entry.timeouts < MAX_TIMEOUTS) {
          entry.inFlight = false;
          entry.uncertain = true;
          // A dead socket is replaced (and the send goes on the next one); a live one gets it again.
          this.connection.checkAlive();
          return this.pump();
        }
        this.settle(entry, () => entry.reject(err));
      },
    );
  }

  private settle(entry: Entry, outcome: () => void): void {
    const i = this.entries.indexOf(entry);
    if (i < 0) return;
    this.entries.splice(i, 1);
    clearTimeout(entry.deadline);
    this.persist();
    outcome();
    this.pump();
  }

  private persist(): void {
    if (!this.store) return;
    void Promise.resolve(this.store.save(this.entries.map((e) => e.send))).catch(() => undefined);
  }
}
