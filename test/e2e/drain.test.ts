// A gateway stopped with 500 viewers of one room (join/leave messages on) drains instead of
// dropping them: it turns unready and refuses upgrades at once, closes its sockets with 4000
// spread over its window, and every viewer comes back through the other gateway, rejoins and
// has every message exactly once and in order — while a sender keeps sending through it all —
// with only a few join/leave messages written for the whole storm.
import WebSocket from 'ws';
import { CloseCode, LomiClient, MessageKind, type Room } from '@lomi/client';
import { MessageLog, waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

const VIEWERS = 500;
const DIGEST_INTERVAL_MS = 1000;
const DRAIN_DELAY_MS = 300;
const DRAIN_WINDOW_MS = 2000;
/** The SDK's first reconnect waits up to this long (its default). */
const RECONNECT_WINDOW_MS = 2000;

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({
    gateways: 2,
    env: {
      JOIN_LEAVE_MESSAGES: 'true',
      PRESENCE_SWEEP_MS: '100',
      JOIN_AGGREGATE_INTERVAL_MS: String(DIGEST_INTERVAL_MS),
      DRAIN_DELAY_MS: String(DRAIN_DELAY_MS),
      DRAIN_WINDOW_MS: String(DRAIN_WINDOW_MS),
    },
  });
});
afterAll(() => system.stop());

interface Viewer {
  client: LomiClient;
  log: MessageLog;
  /** The seq the viewer's first join started after. */
  joinedAt: number;
  closeCodes: number[];
  rejoined: boolean[];
  lost: number;
}

async function viewer(room: Room, i: number): Promise<Viewer> {
  const client = await LomiClient.connect({
    url: [system.wsUrl(0), system.wsUrl(1)],
    token: await system.token(system.user(`viewer${i}`)),
    WebSocket: WebSocket as never,
  });
  const v: Viewer = { client, log: new MessageLog(client), joinedAt: 0, closeCodes: [], rejoined: [], lost: 0 };
  client.on('reconnecting', (_attempt, _delay, code) => v.closeCodes.push(code));
  client.on('rejoined', (_room, recovered) => v.rejoined.push(recovered));
  client.on('roomLost', () => (v.lost += 1));
  v.joinedAt = Number((await client.join(room)).topSeq);
  return v;
}

/** The HTTP status a WebSocket upgrade to `url` is answered with. */
function upgradeStatus(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/api/v1/ws/chat`, { headers: { authorization: `Bearer ${token}` } });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('error', reject);
  });
}

test('500 viewers of a draining gateway all move to the other one with every message once, in order', async () => {
  const room = await system.createLiveRoom(system.user('caster'));
  const sender = await system.connect(system.user('sender'), { gateway: 1 });
  await sender.join(room);
  const viewers: Viewer[] = [];
  for (let i = 0; i < VIEWERS; i += 50) viewers.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => viewer(room, i + j)))));

  const acked: number[] = [];
  let sending = true;
  const sent = (async () => {
    while (sending) {
      acked.push(Number((await sender.send(room, `m${acked.length + 1}`)).seq));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  await waitFor(() => acked.length >= 10, 'the first messages');

  const token = await system.token(system.user('latecomer'));
  const draining = system.gateways[0]!.stop();
  // At once: unready, and no new sockets.
  expect((await fetch(`${system.httpUrl(0)}/readyz`)).status).toBe(503);
  expect(await upgradeStatus(system.wsUrl(0), token)).toBe(503);
  await waitFor(() => viewers.every((v) => v.rejoined.length > 0 || v.lost > 0), 'every viewer rejoined', 30_000);
  await draining;
  const sentAtRejoin = acked.length;
  await waitFor(() => acked.length >= sentAtRejoin + 10, 'messages after the drain');
  sending = false;
  await sent;

  expect(viewers.filter((v) => v.lost > 0 || v.rejoined.join() !== 'true').length).toBe(0);
  expect(new Set(viewers.flatMap((v) => v.closeCodes))).toEqual(new Set([CloseCode.SHUTDOWN]));
  const top = acked[acked.length - 1]!;
  await Promise.all(viewers.map((v) => v.log.waitFor(room, top - v.joinedAt, 30_000)));
  // Every seq from each viewer's join to the last message, once and in order: the sender's
  // messages and the join/leave messages between them.
  const wrong = viewers.filter((v) => v.log.seqs(room).join() !== Array.from({ length: top - v.joinedAt }, (_, k) => v.joinedAt + k + 1).join());
  expect(wrong.map((v) => v.log.seqs(room).join())).toEqual([]);

  // At most a digest of joins and one of leaves per interval while viewers come and go: from the
  // last viewer's join to the last one back, and the interval each side of it.
  const announced = viewers[VIEWERS - 1]!.log.in(room).filter((m) => m.kind === MessageKind.MESSAGE_KIND_SYSTEM);
  const intervals = Math.ceil((DRAIN_DELAY_MS + DRAIN_WINDOW_MS + RECONNECT_WINDOW_MS) / DIGEST_INTERVAL_MS) + 2;
  expect(announced.length).toBeLessThanOrEqual(2 * intervals);
  await Promise.all(viewers.map((v) => v.client.close()));
}, 120_000);
