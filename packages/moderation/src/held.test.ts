// What a process holds of the moderation state: trusted for a while, replaced only by newer
// values, dropped on the writer's event and on a bus reconnect, and read once for all waiters.
import type { Bus, BusMessage, BusStatus } from '@lomi/bus';
import type { Logger } from '@lomi/service-runtime';
import { createHeld, type Held } from './held';

interface Value {
  v: number;
}

function setUp(newer?: (value: Value, current: Value) => boolean) {
  let onEvent: (msg: BusMessage) => void = () => undefined;
  let onStatus: (status: BusStatus) => void = () => undefined;
  const bus = {
    subscribe: (_subject: string, handler: (msg: BusMessage) => void) => ((onEvent = handler), { unsubscribe: () => undefined }),
    onStatus: (listener: (status: BusStatus) => void) => ((onStatus = listener), () => undefined),
  } as unknown as Bus;
  const reads: string[] = [];
  let next = 1;
  const pending: ((value: Value) => void)[] = [];
  let deferred = false;
  const held: Held<string, Value> = createHeld<string, Value>({
    bus,
    log: { warn: () => undefined } as unknown as Logger,
    id: (key) => key,
    read: (key) => {
      reads.push(key);
      if (deferred) return new Promise((resolve) => pending.push(resolve));
      return Promise.resolve({ v: next++ });
    },
    event: { subject: 'changed', name: 'Changed', apply: (msg, h) => h.forget(Buffer.from(msg.data).toString()) },
    newer,
  });
  return {
    held,
    reads,
    event: (key: string) => onEvent({ data: Buffer.from(key) } as unknown as BusMessage),
    status: (s: BusStatus) => onStatus(s),
    defer: () => (deferred = true),
    resolve: (value: Value) => pending.shift()!(value),
  };
}

beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
afterEach(() => jest.useRealTimers());

describe('held moderation state', () => {
  it('answers from memory for ten seconds, then reads again', async () => {
    const { held, reads } = setUp();
    expect(await held.get('a')).toEqual({ v: 1 });
    jest.advanceTimersByTime(9_999);
    expect(held.get('a')).toEqual({ v: 1 });
    jest.advanceTimersByTime(1);
    expect(await held.get('a')).toEqual({ v: 2 });
    expect(reads).toEqual(['a', 'a']);
  });

  it("forgets a key on the writer's event and everything on a reconnect", async () => {
    const { held, reads, event, status } = setUp();
    await held.get('a');
    await held.get('b');
    event('a');
    expect(await held.get('a')).toEqual({ v: 3 });
    expect(held.get('b')).toEqual({ v: 2 });
    status('reconnected');
    expect(await held.get('b')).toEqual({ v: 4 });
    expect(reads).toEqual(['a', 'b', 'a', 'b']);
  });

  it('shares one read among callers, and keeps no read that overlapped a forget', async () => {
    const { held, reads, defer, resolve, event } = setUp();
    defer();
    const first = held.get('a');
    const second = held.get('a');
    expect(reads).toEqual(['a']);
    event('a');
    resolve({ v: 10 });
    expect(await first).toEqual({ v: 10 });
    expect(await second).toEqual({ v: 10 });
    const third = held.get('a');
    expect(reads).toEqual(['a', 'a']);
    resolve({ v: 11 });
    expect(await third).toEqual({ v: 11 });
  });

  it('keeps a value only if it is not older than what is held', async () => {
    const { held } = setUp((value, current) => value.v >= current.v);
    held.keep('a', { v: 5 });
    held.keep('a', { v: 4 });
    expect(held.get('a')).toEqual({ v: 5 });
    held.keep('a', { v: 6 });
    expect(held.get('a')).toEqual({ v: 6 });
  });
});
