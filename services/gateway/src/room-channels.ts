// One RoomChannel per room with local members. It subscribes to the room's NATS subject, puts
// room messages back into seq order (two workers may publish one room's messages out of order,
// and NATS core may drop one), fetches any gap from the message workers, and hands the room's
// events to its fan-out (fan-out.ts), which writes them to the local sockets.
//
// The order is per history epoch. A reset (RoomReset) goes to the sockets after the previous
// epoch's last stored seq and before the new epoch's first message; the seqs between name no
// message and are skipped. A reset whose event NATS dropped is learnt from the next range reply,
// which lists the resets above the range's start.
import type { Bus, BusSubscription } from '@lomi/bus';
import { UnavailableError, type Logger, type Subjects } from '@lomi/common';
import { internal, roomKey, Sanction, type ChatMessage, type lomi, type Room, type ServerFrame } from '@lomi/protocol';
import type { Connection } from './connection';
import { RoomFanOut, type FanOutDeps, type RoomEvent } from './fan-out';
import type { WorkerClient } from './worker-client';

/** Recently fanned-out messages kept per room, to bring a joiner from its reply up to the live edge. */
const RECENT_CAPACITY = 2048;
/** Most messages one gap fill may ask for; larger gaps are filled in several rounds. */
const MAX_FILL = 1000;
const FILL_RETRY_MAX_MS = 2000;
/** After a store reset every room is checked once, spread over this long so the workers are not asked all at once. */
const STORE_RESET_SPREAD_MS = 1000;

type RoomReset = lomi.chat.v1.IRoomReset;

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
  /** The current epoch's seqs follow this one. */
  epochStart = 0;
  readonly pending = new Map<number, ChatMessage>();
  /** Resets heard of but not yet put in order (they wait for the previous epoch's last messages), oldest first. */
  resets: RoomReset[] = [];
  /** A range reply said that every message up to here was in it: a seq below it still missing names none. */
  coveredUntil = 0;
  /** Ask the workers about the room even with no gap: it may have been reset unheard. */
  probing = false;
  /** Consecutive messages handed to the fan-out, ending at the highest. */
  readonly recent: ChatMessage[] = [];
  gapTimer: NodeJS.Timeout | undefined;
  filling = false;
  fillFailures = 0;
  subscription: BusSubscription | undefined;
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
  bus: Bus;
  subjects: Subjects;
  workers: WorkerClient;
  log: Logger;
  gapWaitMs: number;
  /** Sends a frame to one socket (for pushes meant for some members only). */
  send(conn: Connection, frame: ServerFrame): void;
  /** Takes a socket out of the room: its user was banned from it. */
  banned(conn: Connection, channel: RoomChannel): void;
}

export class RoomChannels {
  private readonly channels = new Map<string, RoomChannel>();
  private checkingAll = false;

  constructor(private readonly deps: RoomChannelsDeps) {
    deps.bus.subscribe(deps.subjects.events.storeReset, () => this.checkAll());
  }

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
      created.subscription = this.deps.bus.subscribe(this.deps.subjects.room(room), (msg) => this.onRoomEvent(created, msg.data));
      // Only a new subscription needs the round trip to the server; later joiners of the room
      // wait for that same flush instead of paying for their own. A flush that fails (NATS is
      // down) closes the channel, so that the room's next join subscribes afresh instead of
      // awaiting this failure forever.
      created.subscribed = this.deps.bus.flush().catch((err: unknown) => {
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
  initialise(channel: RoomChannel, topSeq: number, epoch: string, epochStart: number): void {
    if (channel.initialised) return;
    channel.initialised = true;
    channel.delivered = topSeq;
    channel.fanOut.start(topSeq);
    channel.epoch = epoch;
    channel.epochStart = epochStart;
    // Resets heard while joining: keep those that come after the join reply's epoch.
    channel.resets = this.following(channel, channel.resets.splice(0)) ?? [];
    this.drain(channel);
  }

  /**
   * Completes a joiner's recovered messages up to its shard's live edge, so that subscribing the
   * socket to the shard's topic right after (in the same tick) leaves no gap and no duplicate.
   */
  async catchUp(channel: RoomChannel, recovered: ChatMessage[], sinceSeq: number, shard: number): Promise<ChatMessage[]> {
    const edge = () => channel.fanOut.edge(shard);
    const result = recovered.filter((m) => Number(m.seq) > sinceSeq && Number(m.seq) <= edge());
    let last = result.length ? Number(result[result.length - 1]!.seq) : sinceSeq;
    while (last < edge()) {
      const fromRecent = channel.recentAfter(last, edge());
      if (fromRecent) {
        result.push(...fromRecent);
        break;
      }
      const reply = await this.deps.workers.range({ room: channel.room, afterSeq: last, untilSeq: Math.min(edge(), last + MAX_FILL), limit: MAX_FILL });
      const before = last;
      for (const m of reply.messages) {
        if (Number(m.seq) <= last || Number(m.seq) > edge()) continue;
        result.push(m);
        last = Number(m.seq);
      }
      // The seqs of a reset's hole name nothing: a complete reply covers them.
      if (reply.complete && !reply.error) last = Math.max(last, Math.min(Number(reply.untilSeq), edge()));
      // Not stored anywhere a worker reads yet (or any more): the joiner may retry.
      if (last === before) throw new UnavailableError(`history of ${channel.key} after seq ${last} is not available`);
    }
    return result;
  }

  /** Asks the workers about every room once (spread over a second): their Redis came back as another server. */
  private checkAll(): void {
    if (this.checkingAll) return;
    this.checkingAll = true;
    const channels = [...this.channels.values()];
    setTimeout(() => (this.checkingAll = false), STORE_RESET_SPREAD_MS).unref();
    channels.forEach((channel, i) =>
      setTimeout(() => {
        if (!channel.initialised || channel.closed) return;
        channel.probing = true;
        this.scheduleFill(channel, 0);
      }, (i * STORE_RESET_SPREAD_MS) / channels.length).unref(),
    );
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
    else if (kind === 'roomReset') this.acceptReset(channel, event.roomReset!);
    else if (kind === 'typing') this.pushTyping(channel, event.typing!);
    else if (kind === 'messageDeleted') this.acceptDeletion(channel, event.messageDeleted!);
    else if (kind === 'userSanctioned') this.acceptSanction(channel, event.userSanctioned!);
    else if (kind) this.enqueue(channel, { frame: { [kind]: event[kind] } });
  }

  /** Deleted messages become tombstones in what this gateway hands joiners, then the room is told. */
  private acceptDeletion(channel: RoomChannel, deleted: lomi.chat.v1.IMessageDeleted): void {
    const seqs = new Set((deleted.seqs ?? []).map(Number));
    const tombstone = (m: ChatMessage) => {
      if (!seqs.has(Number(m.seq))) return;
      m.content = '';
      m.gift = null;
      m.deletedBy = deleted.deletedBy ?? '';
      m.deletedAtMs = deleted.deletedAtMs ?? 0;
    };
    channel.recent.forEach(tombstone);
    channel.pending.forEach(tombstone);
    this.enqueue(channel, { frame: { messageDeleted: deleted } });
  }

  /**
   * A timeout, ban or unban is pushed to the room; a banned user's sockets get it at once and
   * then leave the room (their connections stay: they may be in other rooms).
   */
  private acceptSanction(channel: RoomChannel, sanctioned: lomi.chat.v1.IUserSanctioned): void {
    const frame = { userSanctioned: sanctioned };
    if (sanctioned.sanction === Sanction.SANCTION_BAN) {
      for (const conn of [...channel.members]) {
        if (conn.userId !== sanctioned.userId || !conn.rooms.has(channel.key)) continue;
        this.deps.send(conn, frame);
        this.deps.banned(conn, channel);
      }
    }
    this.enqueue(channel, { frame });
  }

  /** Typing is news for the other member only: the typist's own sockets do not get it. */
  private pushTyping(channel: RoomChannel, typing: lomi.chat.v1.ITypingEvent): void {
    for (const conn of channel.members) {
      if (conn.userId !== typing.userId && conn.rooms.has(channel.key)) this.deps.send(conn, { typing });
    }
  }

  private acceptReset(channel: RoomChannel, reset: RoomReset): void {
    if (!channel.initialised) {
      channel.resets.push(reset);
      return;
    }
    const next = this.following(channel, [reset]);
    if (next) {
      channel.resets.push(...next);
      this.drain(channel);
      return;
    }
    // A reset we have not heard of came before this one: the range reply will list both.
    channel.probing = true;
    this.scheduleFill(channel, 0);
  }

  /**
   * The resets among `resets` (a chain, oldest first) that come after what the channel knows,
   * or undefined when they do not follow on from it (a reset between was missed).
   */
  private following(channel: RoomChannel, resets: RoomReset[]): RoomReset[] | undefined {
    const known = channel.resets[channel.resets.length - 1]?.epoch ?? channel.epoch;
    const at = resets.findIndex((r) => r.epoch === known);
    const next = at >= 0 ? resets.slice(at + 1) : resets;
    return next.length === 0 || next[0]!.previousEpoch === known ? next : undefined;
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
    for (;;) {
      const next = channel.pending.get(channel.delivered + 1);
      if (next) {
        channel.pending.delete(channel.delivered + 1);
        channel.delivered += 1;
        this.enqueue(channel, { message: next });
        continue;
      }
      const reset = channel.resets[0];
      if (reset && channel.delivered >= Number(reset.lastSeq)) {
        channel.resets.shift();
        this.applyReset(channel, reset);
        continue;
      }
      // Below coveredUntil, a seq still missing names no message (a reset's hole): step over it.
      const skipTo = Math.min(channel.coveredUntil, lowestPending(channel) - 1);
      if (skipTo > channel.delivered) {
        channel.delivered = skipTo;
        continue;
      }
      break;
    }
    for (const seq of channel.pending.keys()) {
      if (seq <= channel.delivered) channel.pending.delete(seq);
    }
    if (channel.pending.size > 0 || channel.resets.length > 0) this.scheduleFill(channel);
  }

  /** The previous epoch's last stored messages are out: the sockets hear of the reset, then the new epoch follows. */
  private applyReset(channel: RoomChannel, reset: RoomReset): void {
    channel.epoch = reset.epoch ?? '';
    channel.epochStart = Number(reset.startSeq);
    channel.delivered = Math.max(channel.delivered, channel.epochStart);
    this.enqueue(channel, { frame: { roomReset: reset } });
  }

  private scheduleFill(channel: RoomChannel, delayMs = this.deps.gapWaitMs): void {
    if (channel.gapTimer || channel.filling || channel.closed) return;
    channel.gapTimer = setTimeout(() => {
      channel.gapTimer = undefined;
      void this.fillGap(channel);
    }, delayMs);
  }

  /**
   * A seq is missing while later ones wait, or a reset waits for the previous epoch's last
   * messages, or the room may have been reset unheard (probing): ask the message workers.
   */
  private async fillGap(channel: RoomChannel): Promise<void> {
    const reset = channel.resets[0];
    const lowest = lowestPending(channel);
    if (channel.closed || (lowest === Infinity && !reset && !channel.probing)) return;
    channel.filling = true;
    channel.probing = false;
    const afterSeq = channel.delivered;
    // A probe asks for nothing but the room's state and resets.
    const untilSeq = lowest === Infinity && !reset ? afterSeq : Math.min(lowest - 1, reset ? Number(reset.lastSeq) : Infinity, afterSeq + MAX_FILL);
    try {
      this.deps.metrics.gapFills.inc();
      const reply = await this.deps.workers.range({ room: channel.room, afterSeq, untilSeq, limit: untilSeq === afterSeq ? 1 : MAX_FILL });
      if (reply.error) throw new Error(reply.error.message ?? 'range request refused');
      channel.fillFailures = 0;
      const resets = this.following(channel, reply.resets);
      if (resets) channel.resets.push(...resets);
      else this.deps.log.warn({ room: channel.key, epoch: channel.epoch, now: reply.epoch }, 'the resets of a range reply do not follow on from the room\'s epoch');
      for (const m of reply.messages) {
        if (Number(m.seq) > channel.delivered) channel.pending.set(Number(m.seq), m);
      }
      if (!reply.complete) {
        // Part of the range is stored nowhere any more: skip it rather than stall the room
        // forever. Clients see the jump and recover (their recovery reports recovered=false).
        this.deps.log.error({ room: channel.key, after: afterSeq, until: Number(reply.untilSeq) }, 'unrecoverable gap in room; skipping');
        this.deps.metrics.unrecoverableGaps.inc();
      }
      channel.coveredUntil = Math.max(channel.coveredUntil, Number(reply.untilSeq));
    } catch (err) {
      channel.fillFailures += 1;
      this.deps.log.warn({ room: channel.key, err: (err as Error).message }, 'gap fill failed; retrying');
    } finally {
      channel.filling = false;
    }
    this.drain(channel);
    if ((channel.pending.size > 0 || channel.resets.length > 0) && channel.fillFailures > 0) {
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
    // After a skipped range or a reset's hole the buffer restarts, so it stays consecutive.
    if (last && Number(last.seq) !== seq - 1) channel.recent.length = 0;
    channel.recent.push(message);
    if (channel.recent.length > RECENT_CAPACITY) channel.recent.splice(0, channel.recent.length - RECENT_CAPACITY);
  }
}

/** The lowest seq waiting in the reorder buffer above what was delivered (Infinity: none). */
function lowestPending(channel: RoomChannel): number {
  let lowest = Infinity;
  for (const seq of channel.pending.keys()) if (seq > channel.delivered && seq < lowest) lowest = seq;
  return lowest;
}
