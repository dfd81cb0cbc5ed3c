// One room with local members: its NATS subscription, the reorder buffer that puts its messages
// in seq order, the recent messages a joiner catches up from, and its fan-out (fan-out.ts), which
// writes the room's events to the local sockets.
import type { Bus, BusSubscription } from '@lomi/bus';
import type { Subjects } from '@lomi/bus';
import { UnavailableError } from '@lomi/errors';
import type { Logger } from '@lomi/service-runtime';
import { internal, roomKey, Sanction, type ChatMessage, type lomi, type Room, type ServerFrame } from '@lomi/protocol';
import { RoomFanOut, type FanOutDeps } from './fan-out';
import { RecentMessages } from './recent-messages';
import { MAX_FILL, ReorderBuffer, type Ordered } from './reorder-buffer';
import type { RoomMember } from './room-member';
import type { WorkerClient } from './worker-client';

/** Recently fanned-out messages kept per room, to bring a joiner from its reply up to the live edge. */
const RECENT_CAPACITY = 2048;

/** The gateway could not subscribe to a room's subject (NATS unreachable): the join may be retried. */
export class RoomSubscribeError extends Error {
  override name = 'RoomSubscribeError';
  constructor(room: string, cause: unknown) {
    super(`could not subscribe to room ${room}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

export interface RoomChannelDeps<M extends RoomMember> extends FanOutDeps {
  bus: Bus;
  subjects: Subjects;
  workers: Pick<WorkerClient, 'range'>;
  log: Logger;
  gapWaitMs: number;
  /** Sends a frame to one socket (for pushes meant for some members only). */
  send(member: M, frame: ServerFrame): void;
  /** Takes a socket out of the room: its user was banned from it. */
  banned(member: M, channel: RoomChannel<M>): void;
}

export class RoomChannel<M extends RoomMember = RoomMember> {
  readonly key: string;
  /** Connections joined or joining; the subscription lives while this is non-empty. */
  readonly members = new Set<M>();
  readonly fanOut: RoomFanOut;
  /** Resolves once the bus server has registered the room subscription. */
  readonly subscribed: Promise<void>;
  private readonly order: ReorderBuffer;
  private readonly recent = new RecentMessages(RECENT_CAPACITY);
  private readonly subscription: BusSubscription;
  private closed = false;

  /** Subscribes to the room's subject; `onClose` hears when the channel closes (last member gone, or the subscription failed). */
  constructor(
    readonly room: Room,
    private readonly deps: RoomChannelDeps<M>,
    private readonly onClose: (channel: RoomChannel<M>) => void,
  ) {
    this.key = roomKey(room);
    this.fanOut = new RoomFanOut(room, deps);
    this.order = new ReorderBuffer({
      room,
      workers: deps.workers,
      metrics: deps.metrics,
      log: deps.log,
      gapWaitMs: deps.gapWaitMs,
      deliver: (event) => this.ordered(event),
    });
    this.subscription = deps.bus.subscribe(deps.subjects.room(room), (msg) => this.onRoomEvent(msg.data));
    // A flush that fails (NATS is down) closes the channel, so that the room's next join
    // subscribes afresh instead of awaiting this failure forever.
    this.subscribed = deps.bus.flush().catch((err: unknown) => {
      this.close();
      throw new RoomSubscribeError(this.key, err);
    });
  }

  /** The epoch the room's pushes to sockets are in. */
  get epoch(): string {
    return this.order.epoch;
  }

  get epochStart(): number {
    return this.order.epochStart;
  }

  /** The first successful join reply tells a new channel where the room's history stands. */
  initialise(topSeq: number, epoch: string, epochStart: number): void {
    if (this.order.started) return;
    this.fanOut.start(topSeq);
    this.order.start(topSeq, epoch, epochStart);
  }

  /** Asks the workers whether the room was reset unheard (their store came back as another server). */
  probe(): void {
    this.order.probe();
  }

  /** Drops a joined or joining member, unsubscribing its socket; the last one closes the channel. */
  release(member: M): void {
    this.fanOut.unsubscribe(member);
    this.members.delete(member);
    if (this.members.size === 0) this.close();
  }

  /**
   * Completes a joiner's recovered messages up to its shard's live edge, so that subscribing the
   * socket to the shard's topic right after (in the same tick) leaves no gap and no duplicate.
   */
  async catchUp(recovered: ChatMessage[], sinceSeq: number, shard: number): Promise<ChatMessage[]> {
    const edge = () => this.fanOut.edge(shard);
    const result = recovered.filter((m) => Number(m.seq) > sinceSeq && Number(m.seq) <= edge());
    let last = result.length ? Number(result[result.length - 1]!.seq) : sinceSeq;
    while (last < edge()) {
      const fromRecent = this.recent.after(last, edge());
      if (fromRecent) {
        result.push(...fromRecent);
        break;
      }
      const reply = await this.deps.workers.range({ room: this.room, afterSeq: last, untilSeq: Math.min(edge(), last + MAX_FILL), limit: MAX_FILL });
      const before = last;
      for (const m of reply.messages) {
        if (Number(m.seq) <= last || Number(m.seq) > edge()) continue;
        result.push(m);
        last = Number(m.seq);
      }
      // The seqs of a reset's hole name nothing: a complete reply covers them.
      if (reply.complete && !reply.error) last = Math.max(last, Math.min(Number(reply.untilSeq), edge()));
      // Not stored anywhere a worker reads yet (or any more): the joiner may retry.
      if (last === before) throw new UnavailableError(`history of ${this.key} after seq ${last} is not available`);
    }
    return result;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fanOut.close();
    this.subscription.unsubscribe();
    this.order.dispose();
    this.onClose(this);
  }

  private onRoomEvent(data: Uint8Array): void {
    let event: lomi.internal.v1.RoomEvent;
    try {
      event = internal.RoomEvent.decode(data);
    } catch (err) {
      this.deps.log.error({ room: this.key, err: (err as Error).message }, 'undecodable room event');
      return;
    }
    const kind = event.event;
    if (kind === 'message') this.order.offer(event.message!);
    else if (kind === 'roomReset') this.order.offerReset(event.roomReset!);
    else if (kind === 'typing') this.pushTyping(event.typing!);
    else if (kind === 'messageDeleted') this.acceptDeletion(event.messageDeleted!);
    else if (kind === 'userSanctioned') this.acceptSanction(event.userSanctioned!);
    else if (kind) this.fanOut.push({ frame: { [kind]: event[kind] } });
  }

  private ordered(event: Ordered): void {
    if ('message' in event) {
      this.recent.remember(event.message);
      this.fanOut.push(event);
    } else {
      this.fanOut.push({ frame: { roomReset: event.reset } });
    }
  }

  /** Deleted messages become tombstones in what this gateway hands joiners, then the room is told. */
  private acceptDeletion(deleted: lomi.chat.v1.IMessageDeleted): void {
    const seqs = new Set((deleted.seqs ?? []).map(Number));
    const tombstone = (m: ChatMessage) => {
      if (!seqs.has(Number(m.seq))) return;
      m.content = '';
      m.gift = null;
      m.deletedBy = deleted.deletedBy ?? '';
      m.deletedAtMs = deleted.deletedAtMs ?? 0;
    };
    for (const m of this.recent.values()) tombstone(m);
    for (const m of this.order.held()) tombstone(m);
    this.fanOut.push({ frame: { messageDeleted: deleted } });
  }

  /**
   * A timeout, ban or unban is pushed to the room; a banned user's sockets get it at once and
   * then leave the room (their connections stay: they may be in other rooms).
   */
  private acceptSanction(sanctioned: lomi.chat.v1.IUserSanctioned): void {
    const frame = { userSanctioned: sanctioned };
    if (sanctioned.sanction === Sanction.SANCTION_BAN) {
      for (const member of [...this.members]) {
        if (member.userId !== sanctioned.userId || !member.rooms.has(this.key)) continue;
        this.deps.send(member, frame);
        this.deps.banned(member, this);
      }
    }
    this.fanOut.push({ frame });
  }

  /** Typing is news for the other member only: the typist's own sockets do not get it. */
  private pushTyping(typing: lomi.chat.v1.ITypingEvent): void {
    for (const member of this.members) {
      if (member.userId !== typing.userId && member.rooms.has(this.key)) this.deps.send(member, { typing });
    }
  }
}
