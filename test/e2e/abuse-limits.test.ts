// A gateway caps what one user or one client address may hold: sockets per user and per
// address and handshakes per second per address are refused with HTTP 429 naming the limit,
// and rooms per connection and per user with LIMIT_EXCEEDED; a closed socket or a left room
// frees its place, and every refusal is counted by limit.
import WebSocket from 'ws';
import { ErrorCode, WS_PATH, type LomiClient } from '@lomi/client';
import { waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

interface UpgradeAnswer {
  status: number;
  body: string;
  retryAfter?: string;
  /** The open socket, when the upgrade succeeded. */
  ws?: WebSocket;
}

function upgrade(system: TestSystem, user: string, headers: Record<string, string> = {}): Promise<UpgradeAnswer> {
  return new Promise((resolve, reject) => {
    void system.token(user).then((token) => {
      const ws = new WebSocket(`${system.wsUrl()}${WS_PATH}`, { headers: { ...headers, authorization: `Bearer ${token}` } });
      ws.on('open', () => resolve({ status: 101, body: '', ws }));
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, retryAfter: res.headers['retry-after'] }));
      });
      ws.on('error', (err) => {
        if (!/Unexpected server response/.test(err.message)) reject(err);
      });
    }, reject);
  });
}

function close(ws: WebSocket | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!ws || ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', () => resolve());
    ws.close();
  });
}

async function refusals(system: TestSystem, limit: string): Promise<number> {
  const text = await (await fetch(`${system.metricsUrl()}/metrics`)).text();
  return Number(new RegExp(`^lomi_gateway_limit_refusals_total\\{[^}]*limit="${limit}"[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

describe('connection and room limits', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startSystem({
      env: { MAX_CONNECTIONS_PER_USER: '2', MAX_CONNECTIONS_PER_IP: '4', MAX_ROOMS_PER_CONNECTION: '2', MAX_ROOMS_PER_USER: '3' },
    });
  });
  afterAll(() => system.stop());

  test('a user past MAX_CONNECTIONS_PER_USER gets 429 until one of their sockets closes', async () => {
    const user = system.user('many-tabs');
    const first = await upgrade(system, user);
    const second = await upgrade(system, user);
    expect([first.status, second.status]).toEqual([101, 101]);

    const third = await upgrade(system, user);
    expect(third).toMatchObject({ status: 429, retryAfter: undefined });
    expect(third.body).toBe('too many connections of this user (at most 2 per gateway); close one first');
    expect(await refusals(system, 'connections_per_user')).toBe(1);
    // Another user is not affected.
    const other = await upgrade(system, system.user('one-tab'));
    expect(other.status).toBe(101);

    await close(first.ws);
    const again = await upgrade(system, user);
    expect(again.status).toBe(101);
    await Promise.all([second, other, again].map((a) => close(a.ws)));
  });

  test('an address past MAX_CONNECTIONS_PER_IP gets 429 until one of its sockets closes', async () => {
    const open = [];
    for (let i = 0; i < 4; i++) open.push(await upgrade(system, system.user(`neighbour-${i}`)));
    expect(open.map((a) => a.status)).toEqual([101, 101, 101, 101]);

    const fifth = await upgrade(system, system.user('neighbour-4'));
    expect(fifth.status).toBe(429);
    expect(fifth.body).toBe('too many connections from this address (at most 4 per gateway)');
    expect(await refusals(system, 'connections_per_ip')).toBe(1);

    await close(open[0]!.ws);
    const next = await upgrade(system, system.user('neighbour-4'));
    expect(next.status).toBe(101);
    await Promise.all([...open.slice(1), next].map((a) => close(a.ws)));
  });

  test('joins past MAX_ROOMS_PER_CONNECTION or MAX_ROOMS_PER_USER get LIMIT_EXCEEDED until a room is left', async () => {
    const user = system.user('collector');
    const rooms = await Promise.all([0, 1, 2, 3].map((i) => system.createLiveRoom(system.user(`caster-${i}`))));
    const phone: LomiClient = await system.connect(user);
    const tablet: LomiClient = await system.connect(user);
    await phone.join(rooms[0]!);
    await phone.join(rooms[1]!);
    await expect(phone.join(rooms[2]!)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_LIMIT_EXCEEDED,
      message: expect.stringContaining('at most 2 rooms per connection'),
    });
    // Joining a room already joined takes no new place.
    await phone.join(rooms[1]!);

    await tablet.join(rooms[2]!);
    await expect(tablet.join(rooms[3]!)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_LIMIT_EXCEEDED,
      message: expect.stringContaining('at most 3 rooms per user'),
    });
    expect(await refusals(system, 'rooms_per_connection')).toBe(1);
    expect(await refusals(system, 'rooms_per_user')).toBe(1);

    await phone.leave(rooms[0]!);
    expect((await tablet.join(rooms[3]!)).room).toMatchObject({ id: rooms[3]!.id });
    await Promise.all([phone.close(), tablet.close()]);
  });
});

describe('handshake rate per address', () => {
  const RATE = 3;
  let system: TestSystem;
  beforeAll(async () => {
    system = await startSystem({ env: { MAX_HANDSHAKES_PER_S_PER_IP: String(RATE) } });
  });
  afterAll(() => system.stop());

  test('a burst of handshakes from one address past MAX_HANDSHAKES_PER_S_PER_IP gets 429 with Retry-After, and the address gets in again once the bucket refills', async () => {
    const burst = await Promise.all(Array.from({ length: 4 * RATE }, (_, i) => upgrade(system, system.user(`burst-${i}`))));
    const refused = burst.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(burst.filter((a) => a.status === 101).length).toBeGreaterThanOrEqual(RATE);
    expect(refused[0]).toMatchObject({ retryAfter: '1', body: `too many connection attempts from this address (at most ${RATE} a second)` });
    expect(await refusals(system, 'handshakes_per_ip')).toBe(refused.length);

    let later: UpgradeAnswer | undefined;
    await waitFor(async () => (later = await upgrade(system, system.user('patient'))).status === 101, 'a handshake after the burst');
    await Promise.all([...burst, later!].map((a) => close(a.ws)));
  });
});

describe('client address from a trusted proxy header', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startSystem({ env: { TRUSTED_PROXY_HEADER: 'X-Forwarded-For', MAX_CONNECTIONS_PER_IP: '1' } });
  });
  afterAll(() => system.stop());

  test('behind a proxy, clients are counted by the address the proxy saw, not by what they claim before it', async () => {
    const viaProxy = (client: string, claimed = '') => ({ 'x-forwarded-for': `${claimed}${client}` });
    const first = await upgrade(system, system.user('carrier-a'), viaProxy('203.0.113.7'));
    // Same proxy socket (127.0.0.1), another client address: its own count.
    const second = await upgrade(system, system.user('carrier-b'), viaProxy('198.51.100.9'));
    expect([first.status, second.status]).toEqual([101, 101]);
    // A client writing someone else's address first is still counted by the proxy's entry.
    const spoofing = await upgrade(system, system.user('carrier-c'), viaProxy('203.0.113.7', '192.0.2.1, '));
    expect(spoofing.status).toBe(429);
    await Promise.all([first, second].map((a) => close(a.ws)));
  });
});
