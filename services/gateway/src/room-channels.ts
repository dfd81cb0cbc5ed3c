// One RoomChannel per room with local members. It subscribes to the room's NATS subject, puts
// room messages back into seq order (two workers may publish one room's messages out of order,
// and NATS core may drop one), fetches any gap from the message workers, and fans each message
// out to local sockets with uWS topic publish — encoded once per encoding, not once per socket.
import type { NatsConnection, Subscription } from 'nats';
import type { Logger, Subjects } from '@lomi/common';
import { Encoding, ENCODINGS, encodeServerFrame, internal, roomKey, type ChatMessage, type lomi, type Room, type ServerFrame } from '@lomi/protocol';
import type { TemplatedApp } from './uws';
import type { WorkerClient } from './worker-client';
import type { GatewayMetrics } from './metrics';

/** Recently fanned-out messages kept per room, to bring a joiner from its reply up to the live edge. */
const RECENT_CAPACITY = 2048;
/** Most messages one gap fill may ask for; larger gaps are filled in several rounds. */
const MAX_FILL = 1000;
const FILL_RETRY_MAX_MS = 2000;

type Outgoing = { message: ChatMessage } | { frame: ServerFrame };

export class RoomChannel {
  readonly key: string;
  readonly topics: Record<Encoding, string>;
  /** Connections joined or joining; the NATS subscription lives while this is non-empty. */
  readonly members = new Set<object>();
  /** Highest seq fanned out; meaningful once initialised by the first join reply. */
  delivered = 0;
  initialised = false;
  epoch = '';
  readonly pending = new Map<number, ChatMessage>();
  /**
   * Highest seq handed to the topic. Messages up to `delivered` may still wait in `outgoing` for
   * the batch window, so a socket subscribing now gets everything after `published` — not after
   * `delivered` — from the topic.
   */
  published = 0;
  /** Consecutive published messages ending at `published`. */
  readonly recent: ChatMessage[] = [];
  outgoing: Outgoing[] = [];
  flushScheduled = false;
  /** performance.now() of the last fan-out, to tell a hot room from a quiet one. */
  lastFlushAt = -Infinity;
  gapTimer: NodeJS.Timeout | undefined;
  filling = false;
  fillFailures = 0;
  subscription: Subscription | undefined;
  /** Resolves once the NATS server has registered the room subscription. */
  subscribed: Promise<void> = Promise.resolve();
  closed = false;

  constructor(readonly room: Room) {
    this.key = roomKey(room);
    this.topics = { [Encoding.PROTO]: `${this.key}|p`, [Encoding.JSON]: `${this.key}|j` } as Record<Encoding, string>;
  }

  /** Messages (after, published] from the recent buffer, or undefined if it no longer holds `after + 1`. */
  recentAfter(after: number): ChatMessage[] | undefined {
    if (after >= this.published) return [];
    const first = this.recent[0];
    if (!first || Number(first.seq) > after + 1) return undefined;
    return this.recent.slice(after + 1 - Number(first.seq));
  }
}

export interface RoomChannelsDeps {
  app: TemplatedApp;
  nc: NatsConnection;
  subjects: Subjects;
  workers: WorkerClient;
  metrics: GatewayMetrics;
  log: Logger;
  gapWaitMs: number;
  /** Longest a message of a busy room waits so that it shares a frame with the next ones. */
  batchWindowMs: number;
  /** Frames per second one busy room's fan-out may cost; sets its window below batchWindowMs. */
  batchFramesPerS: number;
}

export class RoomChannels {
  private readonly channels = new Map<string, RoomChannel>();

  constructor(private readonly deps: RoomChannelsDeps) {}

  get size(): number {
    return this.channels.size;
  }

  /**
   * Returns the room's channel with `member` registered, subscribing to the room subject first if
   * this is the room's first local member. Resolves once the server has the subscription, so
   * every message stored after the caller's next worker request will be seen.
   */
  async acquire(room: Room, member: object): Promise<RoomChannel> {
    const key = roomKey(room);
    let channel = this.channels.get(key);
    if (!channel) {
      const created = new RoomChannel(room);
      channel = created;
      this.channels.set(key, created);
      created.subscription = this.deps.nc.subscribe(this.deps.subjects.room(room), {
        callback: (err, msg) => {
          if (err) return this.deps.log.warn({ room: key, err: err.message }, 'room subscription error');
          this.onRoomEvent(created, msg.data);
        },
      });
      // Only a new subscription needs the round trip to the server; later joiners of the room
      // wait for that same flush instead of paying for their own.
      created.subscribed = this.deps.nc.flush();
      this.deps.metrics.roomChannels.set(this.channels.size);
    }
    channel.members.add(member);
    await channel.subscribed;
    return channel;
  }

  release(channel: RoomChannel, member: object): void {
    channel.members.delete(member);
    if (channel.members.size > 0 || channel.closed) return;
    channel.closed = true;
    channel.subscription?.unsubscribe();
    clearTimeout(channel.gapTimer);
    this.channels.delete(channel.key);
    this.deps.metrics.roomChannels.set(this.channels.size);
  }

  /** The first successful join reply tells a new channel where the room's history stands. */
  initialise(channel: RoomChannel, topSeq: number, epoch: string): void {
    if (channel.initialised) return;
    channel.initialised = true;
    channel.delivered = topSeq;
    channel.published = topSeq;
    channel.epoch = epoch;
    this.drain(channel);
  }

  /**
   * Completes a joiner's recovered messages up to the channel's live edge, so that subscribing
   * the socket to the topic right after (in the same tick) leaves no gap and no duplicate.
   */
  async catchUp(channel: RoomChannel, recovered: ChatMessage[], sinceSeq: number): Promise<ChatMessage[]> {
    const result = recovered.filter((m) => Number(m.seq) > sinceSeq && Number(m.seq) <= channel.published);
    let last = result.length ? Number(result[result.length - 1]!.seq) : sinceSeq;
    while (last < channel.published) {
      const fromRecent = channel.recentAfter(last);
      if (fromRecent) {
        result.push(...fromRecent);
        break;
      }
      const reply = await this.deps.workers.range({
        room: channel.room,
        afterSeq: last,
        untilSeq: Math.min(channel.published, last + MAX_FILL),
        limit: MAX_FILL,
      });
      const before = last;
      for (const m of reply.messages) {
        if (Number(m.seq) !== last + 1) break;
        result.push(m);
        last += 1;
      }
      if (last === before) throw new Error(`history of ${channel.key} after seq ${last} is not available`);
    }
    return result;
  }

  private onRoomEvent(channel: RoomChannel, data: Uint8Array): void {
    let event: lomi.internal.v1.RoomEvent;
    try {
      event = internal.RoomEvent.decode(data);
    } catch (err) {
      this.deps.log.error({ room: channel.key, err: (err as Error).message }, 'undecodable room event');
      return;
    }
    const kind = event.event;
    if (kind === 'message') this.accept(channel, event.message!);
    else if (kind) this.enqueue(channel, { frame: { [kind]: event[kind] } });
  }

  private accept(channel: RoomChannel, message: ChatMessage): void {
    const seq = Number(message.seq);
    if (channel.initialised && seq <= channel.delivered) {
      this.deps.metrics.duplicateMessages.inc();
      return;
    }
    channel.pending.set(seq, message);
    if (channel.initialised) this.drain(channel);
  }

  private drain(channel: RoomChannel): void {
    for (const seq of channel.pending.keys()) {
      if (seq <= channel.delivered) channel.pending.delete(seq);
    }
    let next = channel.pending.get(channel.delivered + 1);
    while (next) {
      channel.pending.delete(channel.delivered + 1);
      channel.delivered += 1;
      this.enqueue(channel, { message: next });
      next = channel.pending.get(channel.delivered + 1);
    }
    if (channel.pending.size > 0) this.scheduleFill(channel);
  }

  private scheduleFill(channel: RoomChannel, delayMs = this.deps.gapWaitMs): void {
    if (channel.gapTimer || channel.filling || channel.closed) return;
    channel.gapTimer = setTimeout(() => {
      channel.gapTimer = undefined;
      void this.fillGap(channel);
    }, delayMs);
  }

  /** A seq is missing while later ones wait: fetch the missing range from the message workers. */
  private async fillGap(channel: RoomChannel): Promise<void> {
    if (channel.pending.size === 0 || channel.closed) return;
    channel.filling = true;
    const afterSeq = channel.delivered;
    const untilSeq = Math.min(Math.min(...channel.pending.keys()) - 1, afterSeq + MAX_FILL);
    try {
      this.deps.metrics.gapFills.inc();
      const reply = await this.deps.workers.range({ room: channel.room, afterSeq, untilSeq, limit: MAX_FILL });
      channel.fillFailures = 0;
      for (const m of reply.messages) {
        if (Number(m.seq) > channel.delivered) channel.pending.set(Number(m.seq), m);
      }
      const stuck = channel.delivered === afterSeq && channel.pending.size > 0 && !channel.pending.has(afterSeq + 1);
      if (stuck && !reply.error) {
        // The range is stored nowhere any more: skip it rather than stall the room forever.
        // Clients see the jump and recover (their recovery reports recovered=false).
        const resumeAt = Math.min(...channel.pending.keys());
        this.deps.log.error({ room: channel.key, after: afterSeq, resumeAt }, 'unrecoverable gap in room; skipping');
        this.deps.metrics.unrecoverableGaps.inc();
        channel.delivered = resumeAt - 1;
      }
    } catch (err) {
      channel.fillFailures += 1;
      this.deps.log.warn({ room: channel.key, err: (err as Error).message }, 'gap fill failed; retrying');
    } finally {
      channel.filling = false;
    }
    this.drain(channel);
    if (channel.pending.size > 0 && channel.fillFailures > 0) {
      clearTimeout(channel.gapTimer);
      channel.gapTimer = undefined;
      this.scheduleFill(channel, Math.min(this.deps.gapWaitMs * 2 ** channel.fillFailures, FILL_RETRY_MAX_MS));
    }
  }

  private enqueue(channel: RoomChannel, item: Outgoing): void {
    channel.outgoing.push(item);
    if (channel.flushScheduled) return;
    channel.flushScheduled = true;
    // A quiet room fans out on the next turn of the event loop. A hot room (it fanned out less
    // than a batch window ago) waits for the window to end, so each socket gets one frame per
    // window carrying every message of it: far fewer sends per delivered message, at a latency
    // cost bounded by the window. Every frame is a syscall to each local socket, so the window
    // grows with them: a room of 10 sockets waits under a millisecond, one of 500 about 40 ms,
    // which takes its gateway's fan-out CPU at 100 msg/s to half, with sender acks and p99
    // latency better for it (`pnpm bench`, 1k viewers). Publishing outside the NATS callback
    // also keeps uWS publish out of any corked handler, where it degrades to one syscall per
    // message.
    const { batchWindowMs, batchFramesPerS } = this.deps;
    const window = Math.min(batchWindowMs, (channel.members.size * 1000) / batchFramesPerS);
    const wait = channel.lastFlushAt + window - performance.now();
    if (wait > 0) setTimeout(() => this.flush(channel), wait);
    else setImmediate(() => this.flush(channel));
  }

  private remember(channel: RoomChannel, message: ChatMessage): void {
    const seq = Number(message.seq);
    // After a skipped (unrecoverable) range the buffer restarts, so it stays consecutive.
    if (seq !== channel.published + 1) channel.recent.length = 0;
    channel.published = seq;
    channel.recent.push(message);
    if (channel.recent.length > RECENT_CAPACITY) channel.recent.splice(0, channel.recent.length - RECENT_CAPACITY);
  }

  private flush(channel: RoomChannel): void {
    channel.flushScheduled = false;
    channel.lastFlushAt = performance.now();
    const items = channel.outgoing;
    channel.outgoing = [];
    let run: ChatMessage[] = [];
    const frames: ServerFrame[] = [];
    const endRun = () => {
      if (run.length === 1) frames.push({ message: run[0] });
      else if (run.length > 1) frames.push({ batch: { messages: run } });
      run = [];
    };
    for (const item of items) {
      if ('message' in item) {
        run.push(item.message);
        this.remember(channel, item.message);
      } else {
        endRun();
        frames.push(item.frame);
      }
    }
    endRun();
    const { app, metrics } = this.deps;
    for (const encoding of ENCODINGS) {
      const topic = channel.topics[encoding];
      const subscribers = app.numSubscribers(topic);
      if (subscribers === 0) continue;
      for (const frame of frames) {
        app.publish(topic, encodeServerFrame(frame, encoding), encoding === Encoding.PROTO);
        const count = frame.batch ? frame.batch.messages!.length : 1;
        metrics.deliveries.inc({ encoding }, count * subscribers);
      }
      metrics.pushFrames.inc({ encoding }, frames.length * subscribers);
    }
  }
}
