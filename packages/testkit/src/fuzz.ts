// Malformed client frames from a seeded generator, so a failure can be replayed: random bytes,
// truncated frames, wrong protobuf wire types, oversized frames, invalid UTF-8 and wrongly typed
// JSON, and well-formed commands naming bad rooms. fuzzGateway() sends them over several raw
// sockets (reopening those the gateway closes) and pings each socket now and then: the
// gateway must keep answering.
import { Encoding } from '@lomi/client';
import { encodeClientFrame, RoomKind } from '@lomi/protocol';
import { RawSocket } from './raw-socket';

/** mulberry32: a tiny seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Frame = { data: string | Uint8Array; binary: boolean; json: boolean };

const BAD_ROOM_IDS = ['', ' ', 'a.b', '*', '>', 'x'.repeat(65), 'ünï', '\u0000', '../../etc', 'a b', 'room\n', '\ud800'];
const BAD_KINDS = [0, 3, 99, -1];

export function frameGenerator(seed: number, maxFrameBytes: number) {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  const room = () => ({ kind: rnd() < 0.7 ? RoomKind.ROOM_KIND_LIVE : pick(BAD_KINDS), id: pick(BAD_ROOM_IDS) });
  const command = () =>
    pick([
      { join: { room: room(), sinceSeq: int(5) } },
      { send: { room: room(), clientMsgId: `f${int(1e6)}`, text: 'x'.repeat(int(50)) } },
      { history: { room: room(), limit: int(300) } },
      { leave: { room: room() } },
      { typing: { room: room(), typing: true } },
      { pin: { room: room(), text: 'p' } },
    ]);
  const proto = (frame: object) => encodeClientFrame({ requestId: int(1000), ...frame }, Encoding.PROTO) as Uint8Array;
  const makers: [string, number, () => Frame][] = [
    ['random bytes', 25, () => ({ data: bytes(1 + int(256)), binary: true, json: false })],
    [
      'truncated frame',
      20,
      () => {
        const full = proto(command());
        return { data: full.subarray(0, int(full.length)), binary: true, json: false };
      },
    ],
    [
      'wrong wire type',
      15,
      () => {
        const field = pick([1, 10, 11, 12, 13, 14, 19, 20, 99]);
        const tag = (field << 3) | pick([0, 1, 2, 3, 4, 5, 6, 7]);
        return { data: Uint8Array.from([...varint(tag), ...bytes(int(20))]), binary: true, json: false };
      },
    ],
    ['oversized frame', 1, () => ({ data: bytes(maxFrameBytes + 1 + int(maxFrameBytes)), binary: true, json: false })],
    [
      'invalid UTF-8 JSON',
      8,
      () => ({
        data: Buffer.concat([
          Buffer.from('{"requestId":1,"send":{"text":"'),
          Buffer.from(pick([[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88]])),
          Buffer.from('"}}'),
        ]),
        binary: false,
        json: true,
      }),
    ],
    [
      'wrongly typed JSON',
      16,
      () => ({
        data: pick([
          '[]',
          'null',
          '1',
          '"x"',
          '{',
          '{"requestId":"x"}',
          '{"requestId":-1,"ping":{}}',
          '{"requestId":1e99,"ping":{}}',
          '{"join":{"room":{"kind":"NOPE","id":1}}}',
          '{"send":{"room":[],"text":{}}}',
          '{"history":{"limit":"all"}}',
          `${'['.repeat(5000)}${']'.repeat(5000)}`,
          '{"requestId":2,"join":null,"send":{}}',
          JSON.stringify({ requestId: 3, ...command() }),
        ]),
        binary: false,
        json: true,
      }),
    ],
    ['bad room id', 15, () => ({ data: proto(command()), binary: true, json: false })],
  ];
  const total = makers.reduce((n, [, weight]) => n + weight, 0);
  return (): Frame & { kind: string } => {
    let r = int(total);
    for (const [kind, weight, make] of makers) {
      if (r < weight) return { ...make(), kind };
      r -= weight;
    }
    throw new Error('unreachable');
  };
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

export interface FuzzReport {
  sent: Record<string, number>;
  /** Error frames received (the gateway's answer to most bad frames). */
  errors: number;
  /** Sockets the gateway closed, by close code. */
  closes: Record<number, number>;
  /** Pings (every 50 frames, and one at the end on every socket) that got no pong. */
  unansweredPings: number;
}

/** Sends `frames` generated frames to `baseUrl` over `sockets` sockets per encoding. */
export async function fuzzGateway(
  baseUrl: string,
  token: () => Promise<string>,
  { frames = 3000, seed = 23, sockets = 6, maxFrameBytes = 16 * 1024 } = {},
): Promise<FuzzReport> {
  const next = frameGenerator(seed, maxFrameBytes);
  const report: FuzzReport = { sent: {}, errors: 0, closes: {}, unansweredPings: 0 };
  const open = async (encoding: Encoding) => RawSocket.open(baseUrl, await token(), encoding);
  const pools = {
    proto: await Promise.all(Array.from({ length: sockets }, () => open(Encoding.PROTO))),
    json: await Promise.all(Array.from({ length: sockets }, () => open(Encoding.JSON))),
  };
  const ping = async (socket: RawSocket, id: number) => {
    socket.send(encodeClientFrame({ requestId: id, ping: {} }, socket.encoding), socket.encoding === Encoding.PROTO);
    const pong = await socket.reply(id, 5000).catch(() => undefined);
    if (!pong?.pong && !socket.closed) report.unansweredPings += 1;
  };
  const settleSocket = (socket: RawSocket) => {
    report.errors += socket.frames.filter((f) => f.error).length;
    if (socket.closed) report.closes[socket.closed.code] = (report.closes[socket.closed.code] ?? 0) + 1;
  };
  for (let n = 0; n < frames; n++) {
    const frame = next();
    const pool = frame.json ? pools.json : pools.proto;
    const slot = n % pool.length;
    if (pool[slot]!.closed) {
      settleSocket(pool[slot]!);
      pool[slot] = await open(pool[slot]!.encoding);
    }
    const socket = pool[slot]!;
    socket.send(frame.data, frame.binary);
    report.sent[frame.kind] = (report.sent[frame.kind] ?? 0) + 1;
    if (n % 50 === 49) await ping(socket, 1_000_000 + n);
  }
  const pool = [...pools.proto, ...pools.json];
  await Promise.all(pool.map((s, i) => (s.closed ? undefined : ping(s, 2_000_000 + i))));
  for (const socket of pool) {
    settleSocket(socket);
    socket.close();
  }
  return report;
}
