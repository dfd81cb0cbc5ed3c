// Puts one room's messages back into seq order: two workers may publish a room's messages out of
// order, and NATS core may drop one. A message after a missing seq waits; a gap still open after
// the gap wait is fetched from the message workers.
//
// The order is per history epoch. A reset (RoomReset) goes out after the previous epoch's last
// stored seq and before the new epoch's first message; the seqs between name no message and are
// skipped. A reset whose event NATS dropped is learnt from the next range reply, which lists the
// resets above the range's start.
import type { Logger } from '@lomi/service-runtime';
import { roomKey, type ChatMessage, type lomi, type Room } from '@lomi/protocol';
import type { GatewayMetrics } from './metrics';
import type { WorkerClient } from './worker-client';

/** Most messages one range request may ask for; larger gaps are filled in several rounds. */
export const MAX_FILL = 1000;
const FILL_RETRY_MAX_MS = 2000;

export type RoomReset = lomi.chat.v1.IRoomReset;
/** What the buffer puts out, in order: a message, or the start of a new epoch. */
export type Ordered = { message: ChatMessage } | { reset: RoomReset };

export interface ReorderBufferDeps {
  room: Room;
  workers: Pick<WorkerClient, 'range'>;
  metrics: Pick<GatewayMetrics, 'duplicateMessages' | 'gapFills' | 'unrecoverableGaps'>;
  log: Logger;
  /** How long a gap may stay open before it is fetched. */
  gapWaitMs: number;
  /** Gets every message and reset, each once, in order. */
  deliver(event: Ordered): void;
}

export class ReorderBuffer {
  private readonly key: string;
  private begun = false;
  /** Highest seq put in order; meaningful once started. */
  private delivered = 0;
  private currentEpoch = '';
  /** The current epoch's seqs follow this one. */
  private currentEpochStart = 0;
  private readonly pending = new Map<number, ChatMessage>();
  /** Resets heard of but not yet put in order (they wait for the previous epoch's last messages), oldest first. */
  private resets: RoomReset[] = [];
  /** A range reply said that every message up to here was in it: a seq below it still missing names none. */
  private coveredUntil = 0;
  /** Ask the workers about the room even with no gap: it may have been reset unheard. */
  private probing = false;
  private gapTimer: NodeJS.Timeout | undefined;
  private filling = false;
  /** Gap fills failed in a row; each one doubles the wait before the next. */
  private fillFailures = 0;
  private disposed = false;

  constructor(private readonly deps: ReorderBufferDeps) {
    this.key = roomKey(deps.room);
  }

  /** Whether start() has told the buffer where the room's history stands. */
  get started(): boolean {
    return this.begun;
  }

  get epoch(): string {
    return this.currentEpoch;
  }

  get epochStart(): number {
    return this.currentEpochStart;
  }

  /** Where the room's history stands (the first join reply): what was offered before waits for it. Later calls do nothing. */
  start(topSeq: number, epoch: string, epochStart: number): void {
    if (this.begun) return;
    this.begun = true;
    this.delivered = topSeq;
    this.currentEpoch = epoch;
    this.currentEpochStart = epochStart;
    // Resets heard while joining: keep those that come after the join reply's epoch.
    this.resets = this.following(this.resets.splice(0)) ?? [];
    this.drain();
  }

  offer(message: ChatMessage): void {
    const seq = Number(message.seq);
    if (this.begun && seq <= this.delivered) {
      this.deps.metrics.duplicateMessages.inc();
      return;
    }
    this.pending.set(seq, message);
    if (this.begun) this.drain();
  }

  offerReset(reset: RoomReset): void {
    if (!this.begun) {
      this.resets.push(reset);
      return;
    }
    const next = this.following([reset]);
    if (next) {
      this.resets.push(...next);
      this.drain();
      return;
    }
    // A reset we have not heard of came before this one: the range reply will list both.
    this.probe();
  }

  /** Asks the workers about the room at once, gap or not: its history may have been reset unheard (a store reset). */
  probe(): void {
    if (!this.begun || this.disposed) return;
    this.probing = true;
    this.scheduleFill(0);
  }

  /** The messages waiting for a missing seq (a deletion tombstones them in place). */
  held(): IterableIterator<ChatMessage> {
    return this.pending.values();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.gapTimer);
  }

  /**
   * The resets among `resets` (a chain, oldest first) that come after what the buffer knows,
   * or undefined when they do not follow on from it (a reset between was missed).
   */
  private following(resets: RoomReset[]): RoomReset[] | undefined {
    const known = this.resets[this.resets.length - 1]?.epoch ?? this.currentEpoch;
    const at = resets.findIndex((r) => r.epoch === known);
    const next = at >= 0 ? resets.slice(at + 1) : resets;
    return next.length === 0 || next[0]!.previousEpoch === known ? next : undefined;
  }

  private drain(): void {
    for (;;) {
      const next = this.pending.get(this.delivered + 1);
      if (next) {
        this.pending.delete(this.delivered + 1);
        this.delivered += 1;
        this.deps.deliver({ message: next });
        continue;
      }
      const reset = this.resets[0];
      if (reset && this.delivered >= Number(reset.lastSeq)) {
        this.resets.shift();
        this.applyReset(reset);
        continue;
      }
      // Below coveredUntil, a seq still missing names no message (a reset's hole): step over it.
      const skipTo = Math.min(this.coveredUntil, this.lowestPending() - 1);
      if (skipTo > this.delivered) {
        this.delivered = skipTo;
        continue;
      }
      break;
    }
    for (const seq of this.pending.keys()) {
      if (seq <= this.delivered) this.pending.delete(seq);
    }
    if (this.waiting()) this.scheduleFill();
  }

  /** The previous epoch's last stored messages are out: the reset goes out, then the new epoch follows. */
  private applyReset(reset: RoomReset): void {
    this.currentEpoch = reset.epoch ?? '';
    this.currentEpochStart = Number(reset.startSeq);
    this.delivered = Math.max(this.delivered, this.currentEpochStart);
    this.deps.deliver({ reset });
  }

  private waiting(): boolean {
    return this.pending.size > 0 || this.resets.length > 0;
  }

  /** The lowest seq waiting above what was delivered (Infinity: none). */
  private lowestPending(): number {
    let lowest = Infinity;
    for (const seq of this.pending.keys()) if (seq > this.delivered && seq < lowest) lowest = seq;
    return lowest;
  }

  private scheduleFill(delayMs = this.deps.gapWaitMs): void {
    if (this.gapTimer || this.filling || this.disposed) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      void this.fillGap();
    }, delayMs);
  }

  /**
   * A seq is missing while later ones wait, or a reset waits for the previous epoch's last
   * messages, or the room may have been reset unheard (probing): ask the message workers.
   */
  private async fillGap(): Promise<void> {
    const reset = this.resets[0];
    const lowest = this.lowestPending();
    if (this.disposed || (lowest === Infinity && !reset && !this.probing)) return;
    this.filling = true;
    this.probing = false;
    const afterSeq = this.delivered;
    // A probe asks for nothing but the room's state and resets.
    const untilSeq = lowest === Infinity && !reset ? afterSeq : Math.min(lowest - 1, reset ? Number(reset.lastSeq) : Infinity, afterSeq + MAX_FILL);
    const { workers, metrics, log } = this.deps;
    try {
      metrics.gapFills.inc();
      const reply = await workers.range({ room: this.deps.room, afterSeq, untilSeq, limit: untilSeq === afterSeq ? 1 : MAX_FILL });
      if (reply.error) throw new Error(reply.error.message ?? 'range request refused');
      this.fillFailures = 0;
      const resets = this.following(reply.resets);
      if (resets) this.resets.push(...resets);
      else log.warn({ room: this.key, epoch: this.currentEpoch, now: reply.epoch }, "the resets of a range reply do not follow on from the room's epoch");
      for (const m of reply.messages) {
        if (Number(m.seq) > this.delivered) this.pending.set(Number(m.seq), m);
      }
      if (!reply.complete) {
        // Part of the range is stored nowhere any more: skip it rather than stall the room
        // forever. Clients see the jump and recover (their recovery reports recovered=false).
        log.error({ room: this.key, after: afterSeq, until: Number(reply.untilSeq) }, 'unrecoverable gap in room; skipping');
        metrics.unrecoverableGaps.inc();
      }
      this.coveredUntil = Math.max(this.coveredUntil, Number(reply.untilSeq));
    } catch (err) {
      this.fillFailures += 1;
      log.warn({ room: this.key, err: (err as Error).message }, 'gap fill failed; retrying');
    } finally {
      this.filling = false;
    }
    this.drain();
    if (this.waiting() && this.fillFailures > 0) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
      this.scheduleFill(Math.min(this.deps.gapWaitMs * 2 ** this.fillFailures, FILL_RETRY_MAX_MS));
    }
  }
}
