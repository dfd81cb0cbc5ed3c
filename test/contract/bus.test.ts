// The bus contract: the same cases against every implementation — NATS (on the local server) and
// the in-process memory bus — as centrifuge tests its brokers. Two connections per case, as two
// services would have.
import { BusClosedError, connectNatsBus, MemoryBroker, NoResponderError, PayloadTooLargeError, type Bus, type BusMessage } from '@lomi/bus';
import { createLogger } from '@lomi/service-runtime';
import { randomUUID } from 'node:crypto';

const REQUEST_TIMEOUT_MS = 300;
const log = createLogger('bus-contract', 'silent');

interface Implementation {
  name: string;
  connect(): Promise<Bus>;
}

const implementations: Implementation[] = [
  { name: 'nats', connect: () => connectNatsBus(process.env.NATS_URL ?? 'nats://127.0.0.1:4222', 'bus-contract', log, { requestTimeoutMs: REQUEST_TIMEOUT_MS }) },
  (() => {
    const broker = new MemoryBroker();
    return { name: 'memory', connect: async () => broker.connect({ requestTimeoutMs: REQUEST_TIMEOUT_MS }) };
  })(),
];

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Collects what a subscription receives; `until(n)` waits for n messages (or fails after 2 s). */
function collector() {
  const got: BusMessage[] = [];
  let wake = () => {};
  return {
    got,
    handler: (msg: BusMessage) => {
      got.push(msg);
      wake();
    },
    async until(n: number): Promise<BusMessage[]> {
      const deadline = Date.now() + 2000;
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`got ${got.length} of ${n} messages`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return got;
    },
  };
}

/** Waits long enough that a message that was going to arrive would have. */
const settle = () => new Promise((r) => setTimeout(r, 150));

describe.each(implementations)('bus: $name', (impl) => {
  let a: Bus;
  let b: Bus;
  let subject: (name: string) => string;

  beforeEach(async () => {
    [a, b] = await Promise.all([impl.connect(), impl.connect()]);
    const prefix = `contract.${randomUUID().slice(0, 8)}`;
    subject = (name) => `${prefix}.${name}`;
  });
  afterEach(async () => {
    await Promise.all([a.drain(), b.drain()]);
  });

  test('a subscriber gets what another connection publishes, in publish order', async () => {
    const c = collector();
    b.subscribe(subject('order'), c.handler);
    await b.flush();
    for (let i = 0; i < 100; i++) a.publish(subject('order'), bytes(String(i)));
    const got = await c.until(100);
    expect(got.map((m) => text(m.data))).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(got[0]!.subject).toBe(subject('order'));
  });

  test('wildcards: * matches one token, > the rest', async () => {
    const one = collector();
    const rest = collector();
    b.subscribe(subject('room.*'), one.handler);
    b.subscribe(subject('room.>'), rest.handler);
    await b.flush();
    a.publish(subject('room.1'), bytes('x'));
    a.publish(subject('room.1.deep'), bytes('y'));
    a.publish(subject('other.1'), bytes('z'));
    await rest.until(2);
    await settle();
    expect(one.got.map((m) => m.subject)).toEqual([subject('room.1')]);
    expect(rest.got.map((m) => m.subject)).toEqual([subject('room.1'), subject('room.1.deep')]);
  });

  test('a queue group gets each message once, spread over its members; plain subscribers get every one', async () => {
    const [m1, m2, plain] = [collector(), collector(), collector()];
    a.subscribe(subject('work'), m1.handler, { queue: 'workers' });
    b.subscribe(subject('work'), m2.handler, { queue: 'workers' });
    b.subscribe(subject('work'), plain.handler);
    await Promise.all([a.flush(), b.flush()]);
    for (let i = 0; i < 40; i++) a.publish(subject('work'), bytes(String(i)));
    await plain.until(40);
    await settle();
    const handled = [...m1.got, ...m2.got].map((m) => Number(text(m.data))).sort((x, y) => x - y);
    expect(handled).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(m1.got.length).toBeGreaterThan(0);
    expect(m2.got.length).toBeGreaterThan(0);
  });

  test('request/reply: the reply reaches the requester; many in flight each get their own', async () => {
    b.subscribe(subject('echo'), (msg) => msg.respond(bytes(`re:${text(msg.data)}`)), { queue: 'echo' });
    await b.flush();
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => a.request(subject('echo'), bytes(String(i)))));
    expect(replies.map(text)).toEqual(Array.from({ length: 50 }, (_, i) => `re:${i}`));
  });

  test('a request nobody subscribes to fails at once with NoResponderError', async () => {
    const refused = a.request(subject('nobody'), bytes('?'));
    await expect(refused).rejects.toBeInstanceOf(NoResponderError);
    await expect(refused).rejects.toThrow(/no responders/);
  });

  test('a request nobody answers fails after the timeout with NoResponderError', async () => {
    b.subscribe(subject('silent'), () => undefined);
    await b.flush();
    await expect(a.request(subject('silent'), bytes('?'))).rejects.toThrow(/timeout/);
  });

  test('a published message has no one to answer to', async () => {
    const answered: boolean[] = [];
    b.subscribe(subject('event'), (msg) => answered.push(msg.respond(bytes('no'))));
    await b.flush();
    a.publish(subject('event'), bytes('e'));
    await settle();
    expect(answered).toEqual([false]);
  });

  test('unsubscribe stops delivery at once', async () => {
    const c = collector();
    const subscription = b.subscribe(subject('stop'), c.handler);
    await b.flush();
    a.publish(subject('stop'), bytes('1'));
    await c.until(1);
    subscription.unsubscribe();
    await b.flush();
    a.publish(subject('stop'), bytes('2'));
    await settle();
    expect(c.got).toHaveLength(1);
  });

  test('the payload limit: a message over maxPayload is refused with PayloadTooLargeError', async () => {
    expect(a.maxPayload).toBeGreaterThanOrEqual(1024 * 1024);
    expect(() => a.publish(subject('big'), new Uint8Array(a.maxPayload + 1))).toThrow(PayloadTooLargeError);
  });

  test('drain hands over what was sent, then the bus takes nothing more', async () => {
    const c = collector();
    b.subscribe(subject('last'), c.handler);
    await b.flush();
    a.publish(subject('last'), bytes('before'));
    await a.drain();
    await c.until(1);
    expect(a.isConnected()).toBe(false);
    expect(() => a.publish(subject('last'), bytes('after'))).toThrow(BusClosedError);
    await expect(a.request(subject('last'), bytes('?'))).rejects.toBeInstanceOf(NoResponderError);
    expect(b.isConnected()).toBe(true);
  });
});
