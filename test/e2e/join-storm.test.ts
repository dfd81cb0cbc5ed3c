// 5,000 viewers of one live room lose their gateway at once (SIGKILL) and all come back to the
// other one in the same moment, each rejoining with since_seq while messages keep flowing:
// every rejoin succeeds and recovers, every viewer ends with every message exactly once and in
// order (the gateway's own frames, no SDK deduplication), and the gateway asked the workers for
// far fewer joins than it answered, because it sends a room's joins in batches.
import WebSocket from 'ws';
import { WS_PATH } from '@lomi/client';
import { batchMessages, decodeServerFrame, Encoding, encodeClientFrame, type lomi, type Room } from '@lomi/protocol';
import { waitFor } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

const VIEWERS = 5000;
/** Viewers connecting to the first gateway at once, so that the setup is not a storm of its own. */
const CONNECT_CHUNK = 250;

let system: TestSystem;

beforeAll(async () => {
  // This process holds the gateway, the workers and the 5,000 sockets, on a machine that other
  // test files share: what is asserted is that no join fails, not how fast they are (that is
  // `pnpm bench`'s), so a worker's answer may take longer than the default 5 s here.
  // Its 5,000 viewers all come from 127.0.0.1: the per-address limits are lifted.
  system = await startSystem({
    gateways: 1,
    env: { REQUEST_TIMEOUT_MS: '30000', MAX_CONNECTIONS_PER_IP: '20000', MAX_HANDSHAKES_PER_S_PER_IP: '100000' },
  });
});
afterAll(() => system.stop());

function decode(data: Buffer): lomi.chat.v1.ServerFrame {
  return decodeServerFrame(new Uint8Array(data), Encoding.PROTO);
}

function seqsOf(frame: lomi.chat.v1.ServerFrame): number[] {
  if (frame.message) return [Number(frame.message.seq)];
  if (frame.batch) return batchMessages(frame.batch).map((m) => Number(m.seq));
  return [];
}

/** A reply starts with its request_id (field 1, a varint: tag 0x08); a push starts with its body. */
const isReply = (data: Buffer) => data[0] === 0x08;

/**
 * A viewer on a bare socket that, when its gateway goes away, comes straight back to another
 * and rejoins with the last seq it saw. It keeps the pushed frames raw and decodes them only
 * when asked: 5,000 sockets decoding every push would make this test process the bottleneck.
 */
class StormViewer {
  private frames: Buffer[] = [];
  /** Seqs seen so far, in order: the first session's pushes, the rejoin's recovered messages, the second session's pushes. */
  private readonly seen: number[] = [];
  rejoin: lomi.chat.v1.ServerFrame | undefined;
  failure: Error | undefined;

  constructor(
    private readonly token: string,
    private readonly room: Room,
  ) {}

  /**
   * Opens a socket to `port` and joins, after `sinceSeq` if given; resolves with the reply. The
   * reply's recovered messages are taken in its own callback: pushes read in the same chunk
   * are handled before any continuation of a promise.
   */
  private async open(port: number, sinceSeq: number | undefined, onClose?: () => void): Promise<lomi.chat.v1.ServerFrame> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${WS_PATH}`, [Encoding.PROTO], { headers: { authorization: `Bearer ${this.token}` } });
    let replied: (frame: lomi.chat.v1.ServerFrame) => void = () => undefined;
    const reply = new Promise<lomi.chat.v1.ServerFrame>((resolve) => (replied = resolve));
    // The gateway subscribes a socket only after its join reply: every push comes after it.
    ws.on('message', (data: Buffer) => {
      if (!isReply(data)) return void this.frames.push(data);
      const frame = decode(data);
      this.seqs().push(...(frame.joined?.messages ?? []).map((m) => Number(m.seq)));
      replied(frame);
    });
    if (onClose) ws.once('close', onClose);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(encodeClientFrame({ requestId: 1, join: { room: this.room, sinceSeq } }, Encoding.PROTO));
    return reply;
  }

  /** Joins through the gateway on `port`; when that socket closes, rejoins through `fallback` at once. */
  async join(port: number, fallback: number): Promise<void> {
    const reply = await this.open(port, undefined, () => {
      this.open(fallback, this.lastSeq()).then(
        (rejoin) => (this.rejoin = rejoin),
        (err: Error) => (this.failure = err),
      );
    });
    if (!reply.joined) throw new Error(`join refused: ${reply.error?.message}`);
  }

  /** Every seq seen so far, in the order seen. */
  seqs(): number[] {
    for (const data of this.frames) this.seen.push(...seqsOf(decode(data)));
    this.frames = [];
    return this.seen;
  }

  lastSeq(): number {
    const seqs = this.seqs();
    return seqs[seqs.length - 1] ?? 0;
  }
}

async function counterValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await system.gateways[0]!.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, unknown> }[];
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((n, v) => n + v.value, 0);
}

test('5,000 viewers losing their gateway at once all rejoin the other one and miss nothing', async () => {
  const room = await system.createLiveRoom(system.user('caster'));
  const doomed = await system.spawnGateway();
  const viewers = await Promise.all(Array.from({ length: VIEWERS }, async (_, i) => new StormViewer(await system.token(system.user(`v${i}`)), room)));
  const here = system.gateways[0]!.port;
  for (let i = 0; i < VIEWERS; i += CONNECT_CHUNK) {
    await Promise.all(viewers.slice(i, i + CONNECT_CHUNK).map((v) => v.join(doomed.port, here)));
  }

  const sender = await system.connect(system.user('sender'));
  await sender.join(room);
  const acked: number[] = [];
  let sending = true;
  const sent = (async () => {
    while (sending) {
      acked.push(Number((await sender.send(room, `m${acked.length + 1}`)).seq));
      // A steady stream, not a flood: the point is the joins landing between messages.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  await waitFor(() => acked.length >= 10, 'the first messages');

  const joinsBefore = await counterValue('lomi_gateway_frames_in_total', { command: 'join' });
  const requestsBefore = await counterValue('lomi_gateway_join_requests_total');
  await doomed.kill();
  await waitFor(() => viewers.every((v) => v.rejoin || v.failure), 'every viewer back', 120_000);
  expect(viewers.filter((v) => v.failure).map((v) => v.failure!.message)).toEqual([]);
  const sentAtRejoin = acked.length;
  await waitFor(() => acked.length >= sentAtRejoin + 10, 'messages after the rejoins');
  sending = false;
  await sent;

  const refused = viewers.filter((v) => !v.rejoin!.joined?.recovered);
  expect(refused.map((v) => v.rejoin!.error?.message ?? 'not recovered')).toEqual([]);
  const top = acked[acked.length - 1]!;
  expect(acked).toEqual(Array.from({ length: top }, (_, i) => i + 1));
  await waitFor(() => viewers.every((v) => v.lastSeq() >= top), 'every viewer at the last message', 60_000);
  const wrong = viewers.filter((v) => v.seqs().length !== top || v.seqs().some((seq, i) => seq !== i + 1));
  expect(wrong.map((v) => v.seqs().join(','))).toEqual([]);

  const joins = (await counterValue('lomi_gateway_frames_in_total', { command: 'join' })) - joinsBefore;
  const requests = (await counterValue('lomi_gateway_join_requests_total')) - requestsBefore;
  expect(joins).toBe(VIEWERS);
  expect(requests * 10).toBeLessThan(joins);
}, 300_000);
