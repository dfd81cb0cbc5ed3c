// The bus inside one process, for the embedded mode: a broker that the services of the process
// connect to, as they would to a NATS server. It keeps NATS's semantics where services rely on
// them: delivery is asynchronous and in publish order, `*` and `>` wildcards, queue groups
// (one member each, in turn), "no responders" at once for a request nobody subscribes to, the
// same payload limit, and drain.
import { BusClosedError, NoResponderError, PayloadTooLargeError, type Bus, type BusMessage, type BusSubscription } from './bus';

const MAX_PAYLOAD = 1024 * 1024;

interface Subscriber {
  tokens: string[];
  queue?: string;
  handler: (msg: BusMessage) => void;
  active: boolean;
}

type Delivery = { subscriber: Subscriber; msg: BusMessage };

function matches(pattern: string[], subject: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const token = pattern[i];
    if (token === '>') return subject.length > i;
    if (i >= subject.length || (token !== '*' && token !== subject[i])) return false;
  }
  return pattern.length === subject.length;
}

export class MemoryBroker {
  private readonly subscribers = new Set<Subscriber>();
  private readonly turns = new Map<string, number>();
  private queue: Delivery[] = [];
  private scheduled = false;
  private readonly idle = new Set<() => void>();

  /** A connection to this broker, as a service would open one to NATS. */
  connect(options: { requestTimeoutMs: number }): Bus {
    return new MemoryBus(this, options.requestTimeoutMs);
  }

  /** @internal */
  add(subscriber: Subscriber): void {
    this.subscribers.add(subscriber);
  }

  /** @internal */
  remove(subscriber: Subscriber): void {
    subscriber.active = false;
    this.subscribers.delete(subscriber);
  }

  /** @internal Queues `msg` for every plain subscriber and one member of each queue group; how many will get it. */
  publish(msg: BusMessage): number {
    const subject = msg.subject.split('.');
    const groups = new Map<string, Subscriber[]>();
    let receivers = 0;
    for (const subscriber of this.subscribers) {
      if (!matches(subscriber.tokens, subject)) continue;
      if (subscriber.queue === undefined) {
        this.queue.push({ subscriber, msg });
        receivers++;
        continue;
      }
      const group = `${subscriber.tokens.join('.')} ${subscriber.queue}`;
      groups.set(group, [...(groups.get(group) ?? []), subscriber]);
    }
    for (const [group, members] of groups) {
      const turn = this.turns.get(group) ?? 0;
      this.turns.set(group, turn + 1);
      this.queue.push({ subscriber: members[turn % members.length]!, msg });
      receivers++;
    }
    this.schedule();
    return receivers;
  }

  /** @internal Resolves once everything queued so far has been handed over. */
  settled(): Promise<void> {
    if (this.queue.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // A later turn of the event loop, as a message from a socket would arrive.
    setImmediate(() => this.deliver());
  }

  private deliver(): void {
    const batch = this.queue;
    this.queue = [];
    for (const { subscriber, msg } of batch) if (subscriber.active) subscriber.handler(msg);
    this.scheduled = false;
    if (this.queue.length > 0) return this.schedule();
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }
}

class MemoryBus implements Bus {
  readonly maxPayload = MAX_PAYLOAD;
  private readonly mine = new Set<Subscriber>();
  private closed = false;

  constructor(
    private readonly broker: MemoryBroker,
    private readonly requestTimeoutMs: number,
  ) {}

  private send(subject: string, data: Uint8Array, respond: (data: Uint8Array) => boolean): number {
    if (this.closed) throw new BusClosedError('bus connection closed');
    if (data.length > MAX_PAYLOAD) throw new PayloadTooLargeError(`message of ${data.length} bytes exceeds the bus's ${MAX_PAYLOAD}`);
    return this.broker.publish({ subject, data, respond });
  }

  publish(subject: string, data: Uint8Array): void {
    this.send(subject, data, () => false);
  }

  subscribe(subject: string, handler: (msg: BusMessage) => void, options: { queue?: string } = {}): BusSubscription {
    const subscriber: Subscriber = { tokens: subject.split('.'), queue: options.queue, handler, active: true };
    this.broker.add(subscriber);
    this.mine.add(subscriber);
    const stop = () => {
      this.broker.remove(subscriber);
      this.mine.delete(subscriber);
    };
    return {
      unsubscribe: stop,
      drain: async () => {
        await this.broker.settled();
        stop();
      },
    };
  }

  request(subject: string, data: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const timer = setTimeout(() => {
        answered = true;
        reject(new NoResponderError(`no answer on ${subject}: timeout after ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      timer.unref();
      const respond = (reply: Uint8Array) => {
        if (answered) return true;
        answered = true;
        clearTimeout(timer);
        // Replies travel like messages do: in a later turn.
        setImmediate(() => resolve(reply));
        return true;
      };
      let receivers: number;
      try {
        receivers = this.send(subject, data, respond);
      } catch (err) {
        clearTimeout(timer);
        return reject(err instanceof BusClosedError ? new NoResponderError(`no answer on ${subject}: ${err.message}`, { cause: err }) : err);
      }
      if (receivers === 0) {
        clearTimeout(timer);
        answered = true;
        setImmediate(() => reject(new NoResponderError(`no answer on ${subject}: no responders`)));
      }
    });
  }

  flush(): Promise<void> {
    return this.closed ? Promise.reject(new BusClosedError('bus connection closed')) : this.broker.settled();
  }

  async drain(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.broker.settled();
    for (const subscriber of this.mine) this.broker.remove(subscriber);
    this.mine.clear();
  }

  onStatus(): () => void {
    // An in-process broker never disconnects.
    return () => undefined;
  }

  isConnected(): boolean {
    return !this.closed;
  }
}

/** The scheme of a NATS_URL that selects the process's in-memory broker: `memory:` (or `memory:<name>`). */
export const MEMORY_BUS_SCHEME = 'memory:';

const brokers = new Map<string, MemoryBroker>();

/** The process's broker of that name (NATS_URL `memory:<name>`), made on first use. */
export function processBroker(name: string): MemoryBroker {
  let broker = brokers.get(name);
  if (!broker) {
    broker = new MemoryBroker();
    brokers.set(name, broker);
  }
  return broker;
}
