// Seqs across a room's resets. Each reset leaves a hole (last_seq, start_seq] of seqs that name no
// message; everywhere else a room's seqs are consecutive. Pages, ranges and recoveries count and
// step over seqs with this, so a hole is skipped rather than taken for missing messages.
import type { lomi } from '@lomi/protocol';

/** The seqs after `after`, up to `until` inclusive. */
interface Span {
  after: number;
  until: number;
}

export class SeqSpace {
  /** Sorted, not overlapping, not touching. */
  private readonly holes: Span[] = [];

  constructor(resets: lomi.chat.v1.IRoomReset[]) {
    const spans = resets
      .map((r) => ({ after: Number(r.lastSeq ?? 0), until: Number(r.startSeq ?? 0) }))
      .filter((h) => h.until > h.after)
      .sort((a, b) => a.after - b.after);
    for (const hole of spans) {
      const last = this.holes[this.holes.length - 1];
      if (last && hole.after <= last.until) last.until = Math.max(last.until, hole.until);
      else this.holes.push({ ...hole });
    }
  }

  inHole(seq: number): boolean {
    return this.holes.some((h) => seq > h.after && seq <= h.until);
  }

  /** `seq`, or the highest seq below it that may name a message if `seq` is in a hole. */
  atOrBelow(seq: number): number {
    const hole = this.holes.find((h) => seq > h.after && seq <= h.until);
    return hole ? hole.after : seq;
  }

  /** How many seqs in (from, until] may name a message. */
  count(from: number, until: number): number {
    if (until <= from) return 0;
    let n = until - from;
    for (const h of this.holes) n -= Math.max(0, Math.min(until, h.until) - Math.max(from, h.after));
    return n;
  }

  /** The lowest seq s ≤ cap such that (from, s] holds n seqs outside the holes; cap if it holds fewer. */
  forward(from: number, n: number, cap: number): number {
    if (cap <= from) return from;
    let at = from;
    let left = n;
    for (const h of this.holes) {
      if (h.until <= at) continue;
      const before = Math.min(h.after, cap) - at;
      if (before >= left) return at + left;
      left -= Math.max(0, before);
      at = Math.max(at, h.until);
      if (at >= cap) return cap;
    }
    return Math.min(at + left, cap);
  }

  /** The highest seq s ≥ floor such that (s, until] holds n seqs outside the holes; floor if it holds fewer. */
  backward(until: number, n: number, floor: number): number {
    if (floor >= until) return until;
    let at = until;
    let left = n;
    for (let i = this.holes.length - 1; i >= 0; i--) {
      const h = this.holes[i]!;
      if (h.after >= at) continue;
      const after = at - Math.max(h.until, floor);
      if (after >= left) return at - left;
      left -= Math.max(0, after);
      at = Math.min(at, h.after);
      if (at <= floor) return floor;
    }
    return Math.max(at - left, floor);
  }
}
