// An SDK client (`@lomi/client`, every gateway URL, so it fails over) that records, per joined
// room, what the app sees: each message event, each explicit break in the seq stream (a
// `room_reset` push, a rejoin the SDK reported as unrecoverable) and what the app reloaded
// with `history` after such a break. The verifier (chaos-verify.ts) judges the recording.
import WebSocket from 'ws';
import { Encoding, ErrorCode, LomiClient, LomiError, roomKey, type ChatMessage, type Room } from '@lomi/client';
import { decodeServerFrame } from '@lomi/protocol';
import type { Topology } from './topology';

/** Who sent a message under which client_msg_id: what one seq must name forever. */
export function identityOf(senderId: string | null | undefined, clientMsgId: string | null | undefined): string {
  return `${senderId ?? ''}/${clientMsgId ?? ''}`;
}

export interface Arrival {
  seq: number;
  identity: string;
  /** performance.now() when the app got it. */
  at: number;
}

export type ViewerEvent =
  | ({ kind: 'message' } & Arrival)
  /** The room's history epoch changed: seqs after lastSeq are gone, the new ones follow startSeq. */
  | { kind: 'reset'; lastSeq: number; startSeq: number; at: number }
  /** A rejoin came back with `recovered: false`; the app reloads the gap with `history`. */
  | { kind: 'unrecovered'; at: number };

const RELOAD_FOR_MS = 10_000;

type RoomReset = { room?: Room | null; lastSeq?: unknown; startSeq?: unknown };

/**
 * The `room_reset` push (ServerFrame field 27), read without depending on the generated code
 * having it yet: undefined until the protocol has the field. A push has no request_id, so its
 * body's tag comes first: 27 << 3 | 2 is the varint DA 01. Only those frames are decoded a
 * second time (a thousand viewers' messages are not).
 */
function roomResetOf(data: ArrayBuffer | Uint8Array): RoomReset | undefined {
  // The SDK sets binaryType 'arraybuffer', which `ws` applies to every listener.
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes[0] !== 0xda || bytes[1] !== 0x01) return undefined;
  return (decodeServerFrame(bytes, Encoding.PROTO) as { roomReset?: RoomReset }).roomReset ?? undefined;
}

/** One client's view of one room. */
export class ViewerLog {
  readonly key: string;
  readonly events: ViewerEvent[] = [];
  /** Messages the app reloaded with `history` after an unrecoverable rejoin, by seq. */
  readonly reloaded = new Map<number, Arrival>();

  constructor(
    readonly viewer: string,
    readonly room: Room,
    /** top_seq of the first join reply: the stream starts after it. */
    readonly joinTop: number,
    /** The history epoch of the first join reply. */
    readonly epoch: string,
  ) {
    this.key = roomKey(room);
  }

  /** Everything the app has of the room, live or reloaded, by seq (the first arrival). */
  received(): Map<number, Arrival> {
    const all = new Map(this.reloaded);
    for (const e of this.events) if (e.kind === 'message' && !all.has(e.seq)) all.set(e.seq, e);
    return all;
  }

  lastSeq(): number {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.kind === 'message') return e.seq;
    }
    return this.joinTop;
  }
}

export class ChaosClient {
  readonly logs = new Map<string, ViewerLog>();
  /** Errors the SDK reported outside any request, e.g. a rejoin it gave up ("error" event). */
  readonly errors: string[] = [];
  /** Between a dropped connection and the SDK's `reconnected` (or its giving up). */
  reconnecting = false;
  private reloads: Promise<void>[] = [];
  private readonly early = new Map<string, ViewerEvent[]>();

  private constructor(
    readonly name: string,
    readonly client: LomiClient,
  ) {}

  /** Connects `userId` to gateway `first`, failing over to the others in turn. */
  static async connect(topology: Topology, userId: string, first = 0, options: { requestTimeoutMs?: number } = {}): Promise<ChaosClient> {
    let self: ChaosClient | undefined;
    // Registered before the SDK's own handler, so a reset is recorded before the messages after it.
    class TappedWebSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        this.on('message', (data: ArrayBuffer | Uint8Array) => {
          const reset = roomResetOf(data);
          if (reset) self?.onReset(reset);
        });
      }
    }
    const client = await LomiClient.connect({
      url: topology.urls(first),
      token: await topology.token(userId),
      encoding: Encoding.PROTO,
      WebSocket: TappedWebSocket as never,
      requestTimeoutMs: options.requestTimeoutMs ?? 5000,
    });
    self = new ChaosClient(userId, client);
    self.listen();
    return self;
  }

  /** Joins `room` and starts recording it. */
  async join(room: Room): Promise<ViewerLog> {
    const key = roomKey(room);
    // The SDK hands out the pushes that share a TCP read with the reply before this continuation
    // runs: they are kept here until the log exists.
    const early: ViewerEvent[] = [];
    this.early.set(key, early);
    try {
      const reply = await this.client.join(room);
      const log = new ViewerLog(this.name, room, Number(reply.topSeq), reply.epoch ?? '');
      log.events.push(...early);
      this.logs.set(key, log);
      return log;
    } finally {
      this.early.delete(key);
    }
  }

  /** Resolves once every history reload started so far has finished. */
  async reloadsDone(): Promise<void> {
    await Promise.all(this.reloads);
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private listen(): void {
    this.client.on('message', (m: ChatMessage) => {
      const key = roomKey(m.room ?? {});
      const events = this.logs.get(key)?.events ?? this.early.get(key);
      events?.push({ kind: 'message', seq: Number(m.seq), identity: identityOf(m.senderId, m.clientMsgId), at: performance.now() });
    });
    this.client.on('recoveryFailed', (room) => {
      const log = this.logs.get(roomKey(room));
      if (!log) return;
      log.events.push({ kind: 'unrecovered', at: performance.now() });
      this.reloads.push(this.reload(log, log.lastSeq()));
    });
    this.client.on('error', (err) => this.errors.push(err.message));
    this.client.on('reconnecting', () => (this.reconnecting = true));
    this.client.on('reconnected', () => (this.reconnecting = false));
    this.client.on('close', () => (this.reconnecting = false));
  }

  private onReset(reset: RoomReset): void {
    const log = this.logs.get(roomKey(reset.room ?? {}));
    log?.events.push({ kind: 'reset', lastSeq: Number(reset.lastSeq), startSeq: Number(reset.startSeq), at: performance.now() });
  }

  /** What an app does after `recovered: false`: page through the history after what it has (for up to 10 s). */
  private async reload(log: ViewerLog, afterSeq: number): Promise<void> {
    const deadline = performance.now() + RELOAD_FOR_MS;
    for (let after = afterSeq; performance.now() < deadline;) {
      try {
        const page = await this.client.history(log.room, { afterSeq: after, limit: 200 });
        for (const m of page.messages ?? []) {
          const seq = Number(m.seq);
          log.reloaded.set(seq, { seq, identity: identityOf(m.senderId, m.clientMsgId), at: performance.now() });
          after = Math.max(after, seq);
        }
        if (!page.hasMore || !page.messages?.length) return;
      } catch (err) {
        this.errors.push(`history reload of ${log.key}: ${(err as Error).message}`);
        if (err instanceof LomiError && err.code !== ErrorCode.ERROR_CODE_UNAVAILABLE) return;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
}
