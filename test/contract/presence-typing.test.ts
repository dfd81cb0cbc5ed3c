// The typing contract (@lomi/presence TypingStore) against Redis and memory: typing expires by
// itself, "typing" pushes are throttled, "stopped" only for someone who was typing, and a
// closing connection finds the rooms its user types in from it.
import { createTypingStore, type TypingStore } from '@lomi/presence';
import { RoomKind } from '@lomi/protocol';
import { hotStateImplementations, openHotState } from '@lomi/testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(hotStateImplementations)('typing: $name', (impl) => {
  let close: () => Promise<void>;
  let a: TypingStore;
  let b: TypingStore;
  const room = { kind: RoomKind.ROOM_KIND_PRIVATE, id: 'r1' };
  const other = { kind: RoomKind.ROOM_KIND_PRIVATE, id: 'r2' };
  const settings = { timeoutMs: 600, pushIntervalMs: 250 };

  beforeEach(async () => {
    const opened = await openHotState(impl, 2);
    close = opened.close;
    [a, b] = opened.states.map((hot) => createTypingStore(hot, settings)) as [TypingStore, TypingStore];
  });
  afterEach(() => close());

  it('pushes "typing" at most once per interval per user, however often it is renewed', async () => {
    expect(await a.start(room, 'ann', 'c1')).toEqual({ push: 'typing', expired: [], typing: 1 });
    expect(await b.start(room, 'ann', 'c1')).toEqual({ push: undefined, expired: [], typing: 1 });
    expect((await b.start(room, 'bob', 'c2')).push).toBe('typing');
    expect(await a.start(room, 'ann', 'c1')).toMatchObject({ push: undefined, typing: 2 });
    await sleep(settings.pushIntervalMs + 50);
    expect((await b.start(room, 'ann', 'c1')).push).toBe('typing');
  });

  it('"stopped" only for a user who was typing', async () => {
    await a.start(room, 'ann', 'c1');
    expect(await b.stop(room, 'ann')).toEqual({ push: 'stopped', expired: [], typing: 0 });
    expect((await a.stop(room, 'ann')).push).toBeUndefined();
    expect((await a.stop(room, 'bob')).push).toBeUndefined();
  });

  it('typing nobody renews expires, and the next operation in the room reports it once', async () => {
    await a.start(room, 'ann', 'c1');
    await a.start(room, 'bob', 'c2');
    await sleep(300);
    await b.start(room, 'bob', 'c2');
    // Past ann's end by 150 ms, before bob's by 150 ms.
    await sleep(settings.timeoutMs - 150);
    expect(await b.sweep(room)).toEqual({ push: undefined, expired: ['ann'], typing: 1 });
    expect(await a.sweep(room)).toEqual({ push: undefined, expired: [], typing: 1 });
    expect(await a.typingFrom([{ userId: 'ann', connectionId: 'c1' }])).toEqual([[]]);
  });

  it('a typist renewing after their typing expired has not stopped', async () => {
    await a.start(room, 'ann', 'c1');
    await sleep(settings.timeoutMs + 50);
    expect(await b.start(room, 'ann', 'c1')).toEqual({ push: 'typing', expired: [], typing: 1 });
  });

  it('finds the rooms a connection types in, and forgets them when the typing stops', async () => {
    await a.start(room, 'ann', 'c1');
    await b.start(other, 'ann', 'c2');
    await a.start(other, 'bob', 'c3');
    const found = await b.typingFrom([
      { userId: 'ann', connectionId: 'c1' },
      { userId: 'ann', connectionId: 'c2' },
      { userId: 'ann', connectionId: 'c9' },
      { userId: 'bob', connectionId: 'c3' },
    ]);
    expect(found).toEqual([[room], [other], [], [other]]);
    await a.stop(room, 'ann');
    expect(await b.typingFrom([{ userId: 'ann', connectionId: 'c1' }])).toEqual([[]]);
  });

  it('keeps the count exact under concurrent starts and stops of two connections', async () => {
    const typists = Array.from({ length: 30 }, (_, i) => `u${i}`);
    const started = await Promise.all(typists.map((u, i) => (i % 2 ? a : b).start(room, u, `c${i}`)));
    expect(started.filter((c) => c.push === 'typing')).toHaveLength(30);
    const stopped = await Promise.all(typists.slice(10).map((u, i) => (i % 2 ? b : a).stop(room, u)));
    expect(stopped.filter((c) => c.push === 'stopped')).toHaveLength(20);
    expect((await a.sweep(room)).typing).toBe(10);
  });
});
