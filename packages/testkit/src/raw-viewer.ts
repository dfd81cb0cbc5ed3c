import WebSocket from 'ws';
import { batchMessages, decodeServerFrame, encodeClientFrame, Encoding, WS_PATH, type lomi, type Room } from '@lomi/protocol';
import { waitFor } from './wait';

/** What a raw viewer needs of a running system: a gateway's address and a signed token. */
export interface ViewerSystem {
  wsUrl(gateway?: number): string;
  user(name: string): string;
  token(userId: string): Promise<string>;
}

export interface RawViewer {
  ws: WebSocket;
  /** The join reply. */
  joined: lomi.chat.v1.IJoinReply;
  /** Frames carrying room messages (`message` or `batch` pushes), as the gateway sent them. */
  pushes(): lomi.chat.v1.ServerFrame[];
  /** Size on the wire of each frame pushes() returns. */
  pushBytes(): number[];
  /** Every pushed room message, in arrival order, duplicates included; a batch's messages get its room. */
  messages(): lomi.chat.v1.IChatMessage[];
}

/**
 * A viewer on a bare WebSocket, joined to `room` (recovering after `sinceSeq` if given) in
 * `encoding` (protobuf unless given). Unlike the client SDK, which drops what it has seen, it
 * shows exactly what the gateway sent.
 */
export async function rawViewer(
  system: ViewerSystem,
  name: string,
  room: Room,
  options: { gateway?: number; sinceSeq?: number; encoding?: Encoding } = {},
): Promise<RawViewer> {
  const { encoding = Encoding.PROTO } = options;
  const ws = new WebSocket(`${system.wsUrl(options.gateway)}${WS_PATH}`, [encoding], {
    headers: { authorization: `Bearer ${await system.token(system.user(name))}` },
  });
  const frames: lomi.chat.v1.ServerFrame[] = [];
  const sizes = new Map<lomi.chat.v1.ServerFrame, number>();
  ws.on('message', (data: Buffer) => {
    const frame = decodeServerFrame(encoding === Encoding.JSON ? data.toString('utf8') : new Uint8Array(data), encoding);
    frames.push(frame);
    sizes.set(frame, data.length);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(encodeClientFrame({ requestId: 1, join: { room, sinceSeq: options.sinceSeq } }, encoding));
  await waitFor(() => frames.some((f) => f.joined || f.error), `${name} joined`);
  const reply = frames.find((f) => f.joined || f.error)!;
  if (!reply.joined) throw new Error(`${name} could not join: ${reply.error?.message}`);
  const pushes = () => frames.filter((f) => f.message || f.batch);
  return {
    ws,
    joined: reply.joined,
    pushes,
    pushBytes: () => pushes().map((f) => sizes.get(f)!),
    messages: () => pushes().flatMap((f) => (f.batch ? batchMessages(f.batch) : [f.message!])),
  };
}
