// A viewer that stops reading is closed with 4001 "slow consumer; reconnect and recover" instead
// of growing gateway memory, and gets every message it missed when it comes back.
import WebSocket from 'ws';
import { CloseCode, Encoding, WS_PATH } from '@lomi/client';
import { MessageLog } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import { encodeClientFrame, decodeServerFrame } from '@lomi/protocol';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({
    gateways: 1,
    messageWorkers: 2,
    env: {
      SLOW_CONSUMER_BYTES: String(256 * 1024),
      MAX_BACKPRESSURE_BYTES: String(64 * 1024 * 1024),
      MAX_MESSAGE_LENGTH: '20000',
      MAX_FRAME_BYTES: String(64 * 1024),
    },
  });
});
afterAll(() => system.stop());

const slowClosed = async () => (await system.gateways[0]!.metrics.slowConsumers.get()).values.reduce((n, v) => n + v.value, 0);

test('a viewer that stops reading is closed with 4001 and gets every missed message back', async () => {
  const room = await system.createLiveRoom('b-slow');
  const sender = await system.connect('firehose');
  await sender.join(room);

  // A raw socket, so the test can stop reading from it at the TCP level.
  const slow = new WebSocket(`${system.wsUrl()}${WS_PATH}`, [Encoding.PROTO], {
    headers: { authorization: `Bearer ${await system.token('sloth')}` },
  });
  await new Promise((resolve) => slow.once('open', resolve));
  const joined = new Promise<number>((resolve) =>
    slow.once('message', (data: Buffer) => resolve(Number(decodeServerFrame(new Uint8Array(data), Encoding.PROTO).joined!.topSeq))),
  );
  slow.send(encodeClientFrame({ requestId: 1, join: { room } }, Encoding.PROTO));
  const lastSeen = await joined;
  const closed = new Promise<number>((resolve) => slow.once('close', (code) => resolve(code)));
  const socket = (slow as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();

  // Kernel buffers absorb a few MB before the gateway sees any backpressure; the close frame
  // then waits behind the queued data, so the gateway's own count says when it gave up.
  const big = 'x'.repeat(19_000);
  let sent = 0;
  const before = await slowClosed();
  while ((await slowClosed()) === before) {
    if (sent >= 4000) throw new Error('the gateway never closed the slow socket');
    await Promise.all(Array.from({ length: 20 }, () => sender.send(room, big)));
    sent += 20;
  }
  socket.resume();
  expect(await closed).toBe(CloseCode.SLOW_CONSUMER);

  // Back again: join recovery carries what fits in one reply; beyond that, recovered=false
  // sends the client to history pages, which hold every missed message.
  const back = await system.connect('sloth');
  const log = new MessageLog(back);
  const rejoined = await back.join(room, { sinceSeq: lastSeen });
  const seqs = rejoined.recovered ? rejoined.messages!.map((m) => Number(m.seq)) : [];
  for (let after = lastSeen; !rejoined.recovered;) {
    const page = await back.history(room, { afterSeq: after, limit: 50 });
    seqs.push(...page.messages!.map((m) => Number(m.seq)));
    after = seqs[seqs.length - 1] ?? after;
    if (!page.hasMore) break;
  }
  expect(seqs).toEqual(Array.from({ length: sent }, (_, i) => lastSeen + i + 1));
  await sender.send(room, 'after');
  expect((await log.waitFor(room, 1))[0]!.content).toBe('after');
});
