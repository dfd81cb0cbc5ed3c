// The bus: how gateways and workers talk to each other — publish and subscribe on subjects (with
// queue groups), and request/reply. Every service uses it only through this interface; NATS
// (nats-bus.ts) carries it between processes, the memory bus (memory-bus.ts) inside one.
import { UnavailableError } from '@lomi/errors';

export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Answers a request; false when the message was not one (published without a reply). */
  respond(data: Uint8Array): boolean;
}

export interface BusSubscription {
  /** Stops delivery at once. */
  unsubscribe(): void;
  /** Stops delivery once messages already on their way have been handed over. */
  drain(): Promise<void>;
}

export interface SubscribeOptions {
  /** Members of one queue group share the subject: each message goes to one of them. */
  queue?: string;
}

/** What the connection went through: readers of cached state forget it after a reconnect (events may have been missed). */
export type BusStatus = 'disconnected' | 'reconnected';

export interface Bus {
  /** Sends to every subscriber (and one member of each queue group); throws BusClosedError once closed. */
  publish(subject: string, data: Uint8Array): void;
  /** `handler` gets every message on `subject` (`*` matches one token, `>` the rest); it must not throw. */
  subscribe(subject: string, handler: (msg: BusMessage) => void, options?: SubscribeOptions): BusSubscription;
  /**
   * Sends a request and resolves with the first reply. Rejects with NoResponderError when nobody
   * could answer (no subscriber, no reply within the bus's request timeout, the bus closed).
   */
  request(subject: string, data: Uint8Array): Promise<Uint8Array>;
  /** Resolves once the other end has everything sent and subscribed so far. */
  flush(): Promise<void>;
  /** Lets subscriptions finish what they were handed, then closes. */
  drain(): Promise<void>;
  /** The largest message the bus carries, in bytes. */
  readonly maxPayload: number;
  /** Calls `listener` on every status change; returns how to stop. */
  onStatus(listener: (status: BusStatus) => void): () => void;
  /** Connected now (and not closed). */
  isConnected(): boolean;
}

/** Nobody answered a request: no subscriber, none in time, or the bus is closed. Retrying may work. */
export class NoResponderError extends UnavailableError {
  override name = 'NoResponderError';
}

/** The bus is closed or draining: nothing more can be sent on it. */
export class BusClosedError extends UnavailableError {
  override name = 'BusClosedError';
}

/** A message larger than the bus's maxPayload: ours to fix, retrying will not help. */
export class PayloadTooLargeError extends Error {
  override name = 'PayloadTooLargeError';
}
