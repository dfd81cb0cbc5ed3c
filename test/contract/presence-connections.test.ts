// The user connections contract (@lomi/presence UserConnectionsStore, read by PresenceReader)
// against Redis and memory: a user is online while any socket's expiry is ahead.
import { createPresenceReader, createUserConnectionsStore, type PresenceReader, type UserConnectionsStore } from '@lomi/presence';
import { hotStateImplementations, openHotState } from '@lomi/testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(hotStateImplementations)('user connections: $name', (impl) => {
  let close: () => Promise<void>;
  let a: UserConnectionsStore;
  let b: UserConnectionsStore;
  let reader: PresenceReader;
  const ann = (connectionId: string) => ({ userId: 'ann', connectionId });

  beforeEach(async () => {
    const opened = await openHotState(impl, 2);
    close = opened.close;
    a = createUserConnectionsStore(opened.states[0]!);
    b = createUserConnectionsStore(opened.states[1]!);
    reader = createPresenceReader({ hot: opened.states[1]! });
  });
  afterEach(() => close());

  it('a user is online while any socket is open, and offline when all are closed', async () => {
    expect(await reader.isOnline('ann')).toBe(false);
    await a.open([ann('c1'), ann('c2'), { userId: 'bob', connectionId: 'c3' }], { ttlMs: 5000, sentAtMs: Date.now() });
    expect(await b.isOnline('ann')).toBe(true);
    await b.close([ann('c1')]);
    expect(await reader.isOnline('ann')).toBe(true);
    await a.close([ann('c2')]);
    expect(await reader.isOnline('ann')).toBe(false);
    expect(await reader.isOnline('bob')).toBe(true);
  });

  it('a user is online while any socket expiry is ahead, even after the others passed', async () => {
    await a.open([ann('short')], { ttlMs: 300, sentAtMs: Date.now() });
    await b.open([ann('long')], { ttlMs: 1000, sentAtMs: Date.now() });
    await sleep(450);
    expect(await reader.isOnline('ann')).toBe(true);
    await a.close([ann('long')]);
    expect(await reader.isOnline('ann')).toBe(false);
  });

  it('goes offline by itself when the heartbeats stop', async () => {
    await a.open([ann('c1')], { ttlMs: 300, sentAtMs: Date.now() });
    expect(await reader.isOnline('ann')).toBe(true);
    await sleep(400);
    expect(await reader.isOnline('ann')).toBe(false);
  });

  it('a late report never shortens an expiry, and an expired report opens nothing', async () => {
    const t = Date.now();
    await a.open([ann('c1')], { ttlMs: 800, sentAtMs: t });
    await b.open([ann('c1')], { ttlMs: 800, sentAtMs: t - 600 });
    await b.open([ann('c2')], { ttlMs: 100, sentAtMs: t - 500 });
    await sleep(400);
    expect(await reader.isOnline('ann')).toBe(true);
    await a.close([ann('c1')]);
    expect(await reader.isOnline('ann')).toBe(false);
  });

  it('keeps concurrent opens and closes of two connections exact', async () => {
    const sockets = Array.from({ length: 40 }, (_, i) => ann(`c${i}`));
    const report = { ttlMs: 5000, sentAtMs: Date.now() };
    await Promise.all(sockets.map((s, i) => (i % 2 ? a : b).open([s], report)));
    await Promise.all(sockets.slice(1).map((s, i) => (i % 2 ? b : a).close([s])));
    expect(await reader.isOnline('ann')).toBe(true);
    await a.close([sockets[0]!]);
    expect(await reader.isOnline('ann')).toBe(false);
  });
});
