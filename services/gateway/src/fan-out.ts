// How one room's events reach its local sockets. Sockets are spread over several uWS topics per
// encoding; a sweep visits the shards in order, about `turnSockets` sockets (or `turnBytes`) per
// event-loop turn, and publishes to each shard, as one frame, every event that shard has not had
// yet. A message is encoded once per encoding when it arrives; a sweep's frames are its messages'
// encodings copied together, made once per encoding for all the shards that start at one event.
//
// A sweep that falls behind (a big room on a busy core) is not followed by a queue of fan-outs:
// each shard simply gets whatever arrived since its last visit, like uWS's own per-iteration
// drain, so a message waits for at most one sweep, and a hot room's frames grow instead of its
// latency.
import { EncodedMessage, Encoding, ENCODINGS, encodePush, encodeServerFrame, roomKey, RoomKind, type ChatMessage, type Room, type ServerFrame } from '@lomi/protocol';
import type { GatewayMetrics } from './metrics';
import type { RoomMember } from './room-member';
import type { TemplatedApp } from './uws';

/**
 * Topics a live room's sockets are spread over, per encoding. A private room has two members
 * and one topic: a gateway may hold thousands of them, and each topic costs memory.
 */
const LIVE_ROOM_SHARDS = 64;
/**
 * Largest batch frame, in bytes of its messages: uWS writes a frame within its 16 KB cork buffer
 * straight to the socket, a bigger one through its backpressure buffer (docs/decisions/0020).
 */
const FRAME_BYTES = 16 * 1024;
/**
 * The fan-out delay histogram samples one shard in this many (a private room's only shard always):
 * observing them all costs the fan-out's core noticeably (docs/decisions/0021).
 */
const DELAY_SAMPLE_SHARDS = 4;

export type RoomEvent = { message: ChatMessage } | { frame: ServerFrame };
/**
 * A room event as the fan-out keeps it: a message encoded, or any other push. One object shape
 * for both, so V8 keeps the sweep's optimised code (docs/decisions/0024).
 */
interface Logged {
  encoded: EncodedMessage | undefined;
  frame: ServerFrame | undefined;
}
type EncodedFrames = { frames: (Uint8Array | string)[]; bytes: number };

export interface FanOutDeps {
  app: Pick<TemplatedApp, 'publish'>;
  metrics: GatewayMetrics;
  /** Longest a message of a busy room waits so that it shares a frame with the next ones. */
  batchWindowMs: number;
  /** Frames per second one busy room's fan-out may cost; sets its window below batchWindowMs. */
  batchFramesPerS: number;
  /** Sockets one turn of a sweep writes to before it yields, so acks and joins are not held up (docs/decisions/0022). */
  turnSockets: number;
  /** Bytes one turn writes before it yields (at least one shard's). */
  turnBytes: number;
}

/**
 * Consecutive messages become pushes of up to FRAME_BYTES; any other event is a frame of its
 * own, in place.
 */
function framesOf(room: Room, events: Logged[], encoding: Encoding): (Uint8Array | string)[] {
  const frames: (Uint8Array | string)[] = [];
  let run: EncodedMessage[] = [];
  let runBytes = 0;
  const endRun = () => {
    if (run.length > 0) frames.push(encodePush(room, run, encoding));
    run = [];
    runBytes = 0;
  };
  for (const { encoded, frame } of events) {
    if (encoded) {
      const bytes = encoded.size(encoding);
      if (runBytes + bytes > FRAME_BYTES) endRun();
      run.push(encoded);
      runBytes += bytes;
    } else {
      endRun();
      frames.push(encodeServerFrame(frame!, encoding));
    }
  }
  endRun();
  return frames;
}

export class RoomFanOut {
  private readonly shards: number;
  private readonly topics: Record<Encoding, string[]>;
  /** Subscribed sockets of each shard, per encoding. */
  private readonly subscribers: Record<Encoding, number[]>;
  private readonly shardOf = new Map<RoomMember, number>();
  private shardsAssigned = 0;
  /** Events not yet sent to every shard; log[0] is event number logStart. */
  private log: Logged[] = [];
  private logStart = 0;
  /** Per shard: number of the first event it has not been sent. */
  private readonly cursors: number[];
  /** Per shard: the highest seq it has been sent. */
  private readonly edges: number[];
  private lastSeq = 0;
  /** The next shard of the sweep in progress. */
  private sweepNext: number | undefined;
  private sweepScheduled = false;
  /** performance.now() of the last sweep's start, to tell a hot room from a quiet one. */
  private lastSweepAt = -Infinity;
  private closed = false;
  /**
   * This sweep's frames by the first event they carry, encoded once for all the shards that start
   * there (mostly all of them), while the log still ends at encodedEnd.
   */
  private readonly encoded = new Map<number, Partial<Record<Encoding, EncodedFrames>>>();
  private encodedEnd = -1;

  constructor(
    private readonly room: Room,
    private readonly deps: FanOutDeps,
  ) {
    const shards = room.kind === RoomKind.ROOM_KIND_LIVE ? LIVE_ROOM_SHARDS : 1;
    const key = roomKey(room);
    const topics = (suffix: string) => Array.from({ length: shards }, (_, i) => `${key}|${suffix}${i}`);
    this.shards = shards;
    this.topics = { [Encoding.PROTO]: topics('p'), [Encoding.JSON]: topics('j') };
    this.subscribers = { [Encoding.PROTO]: new Array(shards).fill(0), [Encoding.JSON]: new Array(shards).fill(0) };
    this.cursors = new Array<number>(shards).fill(0);
    this.edges = new Array<number>(shards).fill(0);
  }

  /** Every shard starts at `seq`: the room's top when the first join reply came. */
  start(seq: number): void {
    this.lastSeq = seq;
    this.edges.fill(seq);
  }

  /** Highest seq sent to `shard`'s topic: a socket subscribing to it now gets everything after this. */
  edge(shard: number): number {
    return this.edges[shard]!;
  }

  /** The shard for a socket about to subscribe: its current one, or the next in turn. */
  shardFor(conn: RoomMember): number {
    return this.shardOf.get(conn) ?? this.shardsAssigned++ % this.shards;
  }

  subscribe(conn: RoomMember, shard: number): void {
    if (this.shardOf.has(conn) || !conn.ws) return;
    conn.ws.subscribe(this.topics[conn.encoding][shard]!);
    this.shardOf.set(conn, shard);
    this.subscribers[conn.encoding][shard]! += 1;
  }

  unsubscribe(conn: RoomMember): void {
    const shard = this.shardOf.get(conn);
    if (shard === undefined) return;
    this.shardOf.delete(conn);
    this.subscribers[conn.encoding][shard]! -= 1;
    // uWS has already dropped a closed socket's subscriptions.
    if (!conn.closed) conn.ws?.unsubscribe(this.topics[conn.encoding][shard]!);
  }

  push(event: RoomEvent): void {
    if ('message' in event) {
      this.lastSeq = Number(event.message.seq);
      this.log.push({ encoded: new EncodedMessage(event.message), frame: undefined });
    } else {
      // A reset moves the room on to its new epoch: a socket subscribing after it starts there.
      const reset = event.frame.roomReset;
      if (reset) this.lastSeq = Math.max(this.lastSeq, Number(reset.startSeq));
      this.log.push({ encoded: undefined, frame: event.frame });
    }
    this.scheduleSweep();
  }

  close(): void {
    this.closed = true;
  }

  /** The frames carrying the log from event `from` to its end, in `encoding`. */
  private framesFrom(from: number, encoding: Encoding): EncodedFrames {
    let byEncoding = this.encoded.get(from);
    if (!byEncoding) this.encoded.set(from, (byEncoding = {}));
    let encoded = byEncoding[encoding];
    if (!encoded) {
      const frames = framesOf(this.room, this.log.slice(from - this.logStart), encoding);
      encoded = byEncoding[encoding] = { frames, bytes: frames.reduce((n, f) => n + f.length, 0) };
    }
    return encoded;
  }

  /** How long each message of events [from, end) waited until the sockets of a shard got it. */
  private observeDelays(from: number, end: number, now: number): void {
    for (let i = from - this.logStart; i < end - this.logStart; i++) {
      const { encoded } = this.log[i]!;
      if (encoded) this.deps.metrics.fanOutDelay.observe((now - Number(encoded.message.createdAtMs)) / 1000);
    }
  }

  private scheduleSweep(): void {
    if (this.sweepScheduled || this.sweepNext !== undefined || this.closed) return;
    this.sweepScheduled = true;
    // A quiet room sweeps on the next turn; a hot one (it swept less than a window ago) waits for
    // the window, which grows with its sockets, so each socket gets one frame per window
    // (docs/decisions/0023). Outside the NATS callback, uWS publish is also out of any corked
    // handler, where it degrades to one syscall per message.
    const { batchWindowMs, batchFramesPerS } = this.deps;
    const window = Math.min(batchWindowMs, (this.shardOf.size * 1000) / batchFramesPerS);
    const wait = this.lastSweepAt + window - performance.now();
    if (wait > 0) setTimeout(() => this.startSweep(), wait);
    else setImmediate(() => this.startSweep());
  }

  private startSweep(): void {
    this.sweepScheduled = false;
    this.lastSweepAt = performance.now();
    this.sweepNext = 0;
    this.sweepTurn();
  }

  private sweepTurn(): void {
    if (this.closed) return;
    const { app, metrics, turnSockets, turnBytes } = this.deps;
    const end = this.logStart + this.log.length;
    if (end !== this.encodedEnd) {
      this.encoded.clear();
      this.encodedEnd = end;
    }
    let sockets = 0;
    let bytes = 0;
    const now = Date.now();
    while (this.sweepNext! < this.shards && sockets < turnSockets) {
      const shard = this.sweepNext!;
      const from = this.cursors[shard]!;
      if (from === end) {
        this.sweepNext! += 1;
        continue;
      }
      let shardSockets = 0;
      let shardBytes = 0;
      for (const encoding of ENCODINGS) {
        const subscribers = this.subscribers[encoding][shard]!;
        if (subscribers > 0) {
          shardSockets += subscribers;
          shardBytes += subscribers * this.framesFrom(from, encoding).bytes;
        }
      }
      // Every turn writes at least one shard, so a sweep always ends.
      if (sockets > 0 && bytes + shardBytes > turnBytes) break;
      this.sweepNext! += 1;
      sockets += shardSockets;
      bytes += shardBytes;
      this.cursors[shard] = end;
      this.edges[shard] = this.lastSeq;
      for (const encoding of ENCODINGS) {
        const subscribers = this.subscribers[encoding][shard]!;
        if (subscribers === 0) continue;
        const topic = this.topics[encoding][shard]!;
        const { frames } = this.framesFrom(from, encoding);
        for (const frame of frames) app.publish(topic, frame, encoding === Encoding.PROTO);
        metrics.deliveries.inc({ encoding }, (end - from) * subscribers);
        metrics.pushFrames.inc({ encoding }, frames.length * subscribers);
      }
      if (shardSockets > 0 && shard % DELAY_SAMPLE_SHARDS === 0) this.observeDelays(from, end, now);
    }
    if (this.sweepNext! < this.shards) {
      setImmediate(() => this.sweepTurn());
      return;
    }
    this.sweepNext = undefined;
    this.encoded.clear();
    const behind = Math.min(...this.cursors);
    this.log.splice(0, behind - this.logStart);
    this.logStart = behind;
    // Events that came during the sweep still wait for the shards it had already passed.
    if (this.log.length > 0) this.scheduleSweep();
  }
}
