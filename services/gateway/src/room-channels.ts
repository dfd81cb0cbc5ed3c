// The rooms this gateway has local members in, by room key: a room's channel (room-channel.ts)
// exists from its first member's join until its last member leaves.
import { roomKey, type Room } from '@lomi/protocol';
import { RoomChannel, type RoomChannelDeps } from './room-channel';
import type { RoomMember } from './room-member';

/** After a store reset every room is checked once, spread over this long so the workers are not asked all at once. */
const STORE_RESET_SPREAD_MS = 1000;

export class RoomChannels<M extends RoomMember> {
  private readonly channels = new Map<string, RoomChannel<M>>();
  private checkingAll = false;

  constructor(private readonly deps: RoomChannelDeps<M>) {
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
  async ensure(room: Room, member: M): Promise<RoomChannel<M>> {
    const key = roomKey(room);
    let channel = this.channels.get(key);
    if (!channel) {
      // Only a new subscription needs the round trip to the server; later joiners of the room
      // wait for that same flush instead of paying for their own.
      channel = new RoomChannel(room, this.deps, (closed) => this.forget(closed));
      this.channels.set(key, channel);
      this.deps.metrics.roomChannels.set(this.channels.size);
    }
    channel.members.add(member);
    await channel.subscribed;
    return channel;
  }

  /** Drops a joined or joining member; the room's last one closes its channel. */
  release(channel: RoomChannel<M>, member: M): void {
    channel.release(member);
  }

  private forget(channel: RoomChannel<M>): void {
    this.channels.delete(channel.key);
    this.deps.metrics.roomChannels.set(this.channels.size);
  }

  /** Asks the workers about every room once (spread over a second): their Redis came back as another server. */
  private checkAll(): void {
    if (this.checkingAll) return;
    this.checkingAll = true;
    const channels = [...this.channels.values()];
    setTimeout(() => (this.checkingAll = false), STORE_RESET_SPREAD_MS).unref();
    channels.forEach((channel, i) => setTimeout(() => channel.probe(), (i * STORE_RESET_SPREAD_MS) / channels.length).unref());
  }
}
