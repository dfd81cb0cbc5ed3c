// The rooms an app joined: their epoch and the highest seq seen, so that each message is
// delivered once and in order, and every room is joined again with recovery after a reconnect.
import { fullJitter } from './backoff';
import type { Connection } from './connection';
import { LomiError } from './errors';
import type { Emitter, RoomResetEvent } from './events';
import { ErrorCode, roomKey, type ChatMessage, type lomi, type Room } from './protocol';

/** A failed rejoin's first retry waits up to this long, doubling per attempt up to REJOIN_MAX_MS. */
const REJOIN_WINDOW_MS = 500;
const REJOIN_MAX_MS = 10_000;
const REJOIN_ATTEMPTS = 10;
/** Refusals that say "not now" rather than "no": a rejoin refused with one of them is tried again. */
const PASSING = new Set<ErrorCode>([ErrorCode.ERROR_CODE_UNAVAILABLE, ErrorCode.ERROR_CODE_INTERNAL, ErrorCode.ERROR_CODE_RATE_LIMITED]);

interface JoinedRoom {
  room: Room;
  epoch: string;
  /** A rejoin's reply is awaited: its recovered messages are delivered as events. */
  rejoining: boolean;
}

export class Rooms {
  private readonly joined = new Map<string, JoinedRoom>();
  /** Highest seq seen per room, so a message delivered twice (reply and push) is shown once. */
  private readonly lastSeq = new Map<string, number>();
  /** Rejoins under way after the latest reconnect. */
  private rejoins = 0;

  constructor(
    private readonly connection: Connection,
    private readonly events: Emitter,
    /** Called when the last rejoin after a reconnect has settled (rejoined or lost). */
    private readonly settled: () => void,
  ) {}

  /** True while rooms are being joined again after a reconnect. */
  get rejoining(): boolean {
    return this.rejoins > 0;
  }

  async join(room: Room, options: { sinceSeq?: number; epoch?: string }): Promise<lomi.chat.v1.IJoinReply> {
    const reply = await this.connection.request({ join: { room, sinceSeq: options.sinceSeq, epoch: options.epoch ?? '' } });
    const joined = reply.joined!;
    this.joined.set(roomKey(room), { room: { kind: room.kind, id: room.id }, epoch: joined.epoch ?? '', rejoining: false });
    return joined;
  }

  left(room: Room): void {
    this.lastSeq.delete(roomKey(room));
    this.joined.delete(roomKey(room));
  }

  lastSeqOf(room: Room): number | undefined {
    return this.lastSeq.get(roomKey(room));
  }

  /** A new socket is open: join every room again, each on its own. */
  rejoinAll(): void {
    const rooms = [...this.joined.values()];
    this.rejoins = rooms.length;
    if (rooms.length === 0) return this.settled();
    const generation = this.connection.generation;
    for (const state of rooms)
      void this.rejoin(state, generation).finally(() => {
        if (generation !== this.connection.generation) return;
        this.rejoins -= 1;
        if (this.rejoins === 0) this.settled();
      });
  }

  /**
   * Joins one room again with the last seen seq, retrying a passing failure with backoff. It
   * stops when the socket is replaced (the next reconnect rejoins) or the app left the room.
   */
  private async rejoin(state: JoinedRoom, generation: number): Promise<void> {
    const key = roomKey(state.room);
    for (let attempt = 1; this.connection.generation === generation && this.joined.get(key) === state; attempt++) {
      state.rejoining = true;
      try {
        const reply = await this.connection.request({ join: { room: state.room, sinceSeq: this.lastSeq.get(key), epoch: state.epoch } });
        const recovered = Boolean(reply.joined!.recovered);
        this.events.emit('rejoined', state.room, recovered);
        if (!recovered) this.events.emit('recoveryFailed', state.room);
        return;
      } catch (err) {
        if (this.connection.generation !== generation || !this.connection.isOpen) return;
        const error = err as Error;
        // Unanswered (timed out) or "not now": try again; anything else is the room refusing us.
        const passing = !(error instanceof LomiError) || PASSING.has(error.code);
        if (!passing || attempt >= REJOIN_ATTEMPTS) {
          this.joined.delete(key);
          if (error instanceof LomiError) this.events.emit('error', error);
          this.events.emit('roomLost', state.room, error);
          return;
        }
        const retryAfterMs = error instanceof LomiError ? error.retryAfterMs : 0;
        const delay = Math.max(retryAfterMs, fullJitter(attempt, REJOIN_WINDOW_MS, REJOIN_MAX_MS));
        this.events.emit('rejoining', state.room, attempt, delay, error);
        await new Promise((resolve) => setTimeout(resolve, delay));
      } finally {
        state.rejoining = false;
      }
    }
  }

  /** A join reply, applied before the caller's await continues: pushes read in the same tick must see it. */
  onJoined(joined: lomi.chat.v1.IJoinReply): void {
    const key = roomKey(joined.room ?? {});
    const state = this.joined.get(key);
    // After a reconnect the app did not ask for this join: what it missed arrives as events.
    if (state?.rejoining) {
      if (joined.epoch) state.epoch = joined.epoch;
      if (joined.recovered) (joined.messages ?? []).forEach((m) => this.deliver(m));
    }
    this.lastSeq.set(key, Math.max(this.lastSeq.get(key) ?? 0, Number(joined.topSeq)));
  }

  onReset(reset: lomi.chat.v1.IRoomReset): void {
    const key = roomKey(reset.room ?? {});
    const state = this.joined.get(key);
    if (!state) return;
    const last = this.lastSeq.get(key) ?? 0;
    const startSeq = Number(reset.startSeq);
    // Already past it: joined (or recovered) into the new epoch after the reset happened.
    if (last > startSeq) return;
    const lastSeq = Number(reset.lastSeq);
    state.epoch = reset.epoch ?? '';
    this.lastSeq.set(key, startSeq);
    const event: RoomResetEvent = { room: state.room, epoch: state.epoch, previousEpoch: reset.previousEpoch ?? '', lastSeq, startSeq, reload: last > lastSeq };
    this.events.emit('reset', event);
  }

  /** Emits a message unless its seq was already seen in its room; true if it was new. */
  deliver(message: ChatMessage): boolean {
    const key = roomKey(message.room ?? {});
    const seq = Number(message.seq);
    if (seq <= (this.lastSeq.get(key) ?? 0)) return false;
    this.lastSeq.set(key, seq);
    this.events.emit('message', message);
    return true;
  }
}
