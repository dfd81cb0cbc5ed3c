// One RoomChannel per room with local members. It subscribes to the room's NATS subject, puts
// room messages back into seq order (two workers may publish one room's messages out of order,
// and NATS core may drop one), fetches any gap from the message workers, and hands the room's
// events to its fan-out (fan-out.ts), which writes them to the local sockets.
import type { NatsConnection, Subscription } from 'nats';
import { UnavailableError, type Logger, type Subjects } from '@lomi/common';
import { internal, roomKey, type ChatMessage, type lomi, type Room } from '@lomi/protocol';
import type { Connection } from './connection';
import { RoomFanOut, type FanOutDeps, type RoomEvent } from './fan-out';
import type { WorkerClient } from './worker-client';

/** Recently fanned-out messages kept per room, to bring a joiner from its reply up to the live edge. */
const RECENT_CAPACITY = 2048;
/** Most messages one gap fill may ask for; larger gaps are filled in several rounds. */
const MAX_FILL = 1000;
const FILL_RETRY_MAX_MS = 2000;

/** The gateway could not subscribe to a room's subject (NATS unreachable): the join may be retried. */
export class RoomSubscribeError extends Error {
  override name = 'RoomSubscribeError';
  constructor(room: string, cause: unknown) {
    super(`could not subscribe to room ${room}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

export class RoomChannel {
  readonly key: string;
  /** Connections joined or joining; the NATS subscription lives while this is non-empty. */
  readonly members = new Set<Connection>();
  /** Highest seq put in order; meaningful once initialised by the first join reply. */
  delivered = 0;
  initialised = false;
  epoch = '';
  readonly pending = new Map<number, ChatMessage>();
  /** Consecutive messages handed to the fan-out, ending at the highest. */
  readonly recent: ChatMessage[] = [];
  gapTimer: NodeJS.Timeout | undefined;
  filling = false;
  fillFailures = 0;
  subscription: Subscription | undefined;
  /** Resolves once the NATS server has registered the room subscription. */
  subscribed: Promise<void> = Promise.resolve();
  closed = false;

  constructor(
    readonly room: Room,
    readonly fanOut: RoomFanOut,
  ) {
    this.key = roomKey(room);
  }

  /** Messages (after, until] from the recent buffer, or undefined if it no longer holds `after + 1`. */
  recentAfter(after: number, until: number): ChatMessage[] | undefined {
    if (after >= until) return [];
    const first = this.recent[0];
    if (!first || Number(first.seq) > after + 1) return undefined;
    return this.recent.slice(after + 1 - Number(first.seq), until + 1 - Number(first.seq));
  }
}

export interface RoomChannelsDeps extends FanOutDeps {
  nc: NatsConnection;
  subjects: Subjects;
  workers: WorkerClient;
  log: Logger;
  gapWaitMs: number;
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
  async acquire(room: Room, member: Connection): Promise<RoomChannel> {
    const key = roomKey(room);
    let channel = this.channels.get(key);
    if (!channel) {
      const created = new RoomChannel(room, new RoomFanOut(room, this.deps));
      channel = created;
      this.channels.set(key, created);
      created.subscription = this.deps.nc.subscribe(this.deps.subjects.room(room), {
        callback: (err, msg) => {
          if (err) return this.deps.log.warn({ room: key, err: err.message }, 'room subscription error');
          this.onRoomEvent(created, msg.data);
        },
      });
      // Only a new subscription needs the round trip to the server; later joiners of the room
      // wait for that same flush instead of paying for their own. A flush that fails (NATS is
      // down) closes the channel, so that the room's next join subscribes afresh instead of
      // awaiting this failure forever.
      created.subscribed = this.deps.nc.flush().catch((err: unknown) => {
        this.close(created);
        throw new RoomSubscribeError(key, err);
      });
      this.deps.metrics.roomChannels.set(this.channels.size);
    }
    channel.members.add(member);
    await channel.subscribed;
    return channel;
  }

  /** Drops a joined or joining member, unsubscribing its socket; the last one closes the channel. */
  release(channel: RoomChannel, member: Connection): void {
    channel.fanOut.unsubscribe(member);
    channel.members.delete(member);
    if (channel.members.size === 0) this.close(channel);
  }

  private close(channel: RoomChannel): void {
    if (channel.closed) return;
    channel.closed = true;
    channel.fanOut.close();
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
    channel.fanOut.start(topSeq);
    channel.epoch = epoch;
    this.drain(channel);
  }

  /**
   * Completes a joiner's recovered messages up to its shard's live edge, so that subscribing the
   * socket to the shard's topic right after (in the same tick) leaves no gap and no duplicate.
   */
  async catchUp(channel: RoomChannel, recovered: ChatMessage[], sinceSeq: number, shard: number): Promise<ChatMessage[]> {
    const result = recovered.filter((m) => Number(m.seq) > sinceSeq && Number(m.seq) <= channel.fanOut.edge(shard));
    let last = result.length ? Number(result[result.length - 1]!.seq) : sinceSeq;
    while (last < channel.fanOut.edge(shard)) {
      const fromRecent = channel.recentAfter(last, channel.fanOut.edge(shard));
      if (fromRecent) {
        result.push(...fromRecent);
        break;
      }
      const reply = await this.deps.workers.range({
        room: channel.room,
        afterSeq: last,
        untilSeq: Math.min(channel.fanOut.edge(shard), last + MAX_FILL),
        limit: MAX_FILL,
      });
      const before = last;
      for (const m of reply.messages) {
        if (Number(m.seq) !== last + 1) break;
        result.push(m);
        last += 1;
      }
      // Not stored anywhere a worker reads yet (or any more): the joiner may retry.
      if (last === before) throw new UnavailableError(`history of ${channel.key} after seq ${last} is not available`);
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

  private enqueue(channel: RoomChannel, event: RoomEvent): void {
    if ('message' in event) this.remember(channel, event.message);
    channel.fanOut.push(event);
  }

  private remember(channel: RoomChannel, message: ChatMessage): void {
    const seq = Number(message.seq);
    const last = channel.recent[channel.recent.length - 1];
    // After a skipped (unrecoverable) range the buffer restarts, so it stays consecutive.
    if (last && Number(last.seq) !== seq - 1) channel.recent.length = 0;
    channel.recent.push(message);
    if (channel.recent.length > RECENT_CAPACITY) channel.recent.splice(0, channel.recent.length - RECENT_CAPACITY);
  }
}
