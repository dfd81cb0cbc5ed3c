// The verdict on a fault experiment: every acked (room, seq, client_msg_id) against what each
// viewer got (live, or reloaded after an explicit break) and against Postgres once the
// persister drained. Nothing lost, nothing duplicated, a seq names one message forever, and a
// viewer's seqs run without a gap except at an explicit reset or unrecovered rejoin.
import type { ViewerLog } from './chaos-client';
import { byRoom, owed, type StoredRow } from './chaos-settle';
import type { AckRecord } from './traffic';

const EXAMPLES = 5;

export interface Figures {
  acked: number;
  /** Acked messages missing from Postgres or from a viewer that was owed them. */
  lost: number;
  lostInPostgres: number;
  lostAtViewers: number;
  /** client_msg_ids stored or delivered under more than one seq, plus seqs delivered twice to one viewer. */
  duplicated: number;
  /** Seqs that named more than one message (across acks, viewers and Postgres). */
  reusedSeqs: number;
  /** Breaks in a viewer's seq stream with no reset or unrecovered rejoin to explain them. */
  gaps: number;
  /** Explicit breaks seen: room_reset pushes and unrecovered rejoins. */
  resets: number;
  unrecovered: number;
  /**
   * From the end of the fault until every viewer had, in each of its rooms, the first message
   * acked after the fault's end that reached it and every message before it; undefined
   * without a fault.
   */
  healMs?: number;
}

export interface Verdict {
  figures: Figures;
  /** A few examples of each kind of violation, for failure messages. */
  examples: { lost: string[]; duplicated: string[]; reused: string[]; gaps: string[] };
}

/** A counter that keeps the first few examples of what it counted. */
class Tally {
  count = 0;
  readonly examples: string[] = [];
  add(example: string): void {
    this.count += 1;
    if (this.examples.length < EXAMPLES) this.examples.push(example);
  }
}

/** Each viewer's message stream, judged on its own: seqs in order, each once, breaks explained. */
function judgeStreams(viewers: ViewerLog[]) {
  const gaps = new Tally();
  const twice = new Tally();
  let resets = 0;
  let unrecovered = 0;
  for (const v of viewers) {
    const seen = new Set<number>();
    let prev = v.joinTop;
    let jump: 'reset' | 'unrecovered' | undefined;
    let floor = 0;
    for (const e of v.events) {
      if (e.kind === 'reset') {
        resets += 1;
        floor = e.startSeq;
      }
      if (e.kind === 'unrecovered') unrecovered += 1;
      if (e.kind !== 'message') {
        jump = e.kind;
        continue;
      }
      if (seen.has(e.seq)) twice.add(`${v.viewer} got ${v.key} seq ${e.seq} twice`);
      seen.add(e.seq);
      if (jump ? e.seq <= prev || e.seq <= floor : e.seq !== prev + 1) {
        gaps.add(`${v.viewer} in ${v.key}: seq ${prev} then ${e.seq}${jump ? ` after ${jump}` : ''}`);
      }
      prev = e.seq;
      jump = undefined;
    }
  }
  return { gaps, twice, resets, unrecovered };
}

/** One seq must name one message, and one message one seq, wherever it was seen. */
function judgeNames(acks: AckRecord[], viewers: ViewerLog[], rows: StoredRow[]) {
  const seqNames = new Map<string, Set<string>>(); // room#seq → identities
  const identitySeqs = new Map<string, Set<number>>(); // room#identity → seqs
  const see = (room: string, seq: number, identity: string) => {
    const names = seqNames.get(`${room}#${seq}`) ?? new Set();
    seqNames.set(`${room}#${seq}`, names.add(identity));
    const seqs = identitySeqs.get(`${room}#${identity}`) ?? new Set();
    identitySeqs.set(`${room}#${identity}`, seqs.add(seq));
  };
  for (const a of acks) see(a.room, a.seq, a.identity);
  for (const r of rows) see(r.room, r.seq, r.identity);
  for (const v of viewers) {
    for (const e of v.events) if (e.kind === 'message') see(v.key, e.seq, e.identity);
    for (const a of v.reloaded.values()) see(v.key, a.seq, a.identity);
  }
  const reused = new Tally();
  const duplicated = new Tally();
  for (const [key, names] of seqNames) if (names.size > 1) reused.add(`${key} named ${[...names].join(' and ')}`);
  for (const [key, seqs] of identitySeqs) if (seqs.size > 1) duplicated.add(`${key} under seqs ${[...seqs].join(', ')}`);
  return { reused, duplicated };
}

/** Acked messages that Postgres or an owed viewer does not have, and when each viewer healed. */
function judgeDelivery(acks: AckRecord[], viewers: ViewerLog[], rows: StoredRow[], faultEndedAt: number | undefined) {
  const lost = new Set<string>();
  const inPostgres = new Tally();
  const stored = new Set(rows.map((r) => `${r.room}#${r.seq}#${r.identity}`));
  for (const a of acks) {
    if (stored.has(`${a.room}#${a.seq}#${a.identity}`)) continue;
    lost.add(`${a.room}#${a.seq}`);
    inPostgres.add(`${a.room} seq ${a.seq} (${a.identity}) acked but not in Postgres`);
  }
  const missedBy = new Map<AckRecord, string[]>();
  let healAt = faultEndedAt ?? 0;
  const rooms = byRoom(acks);
  for (const v of viewers) {
    const received = v.received();
    const got = (a: AckRecord) => received.get(a.seq)?.identity === a.identity;
    const due = owed(v, rooms);
    for (const a of due) {
      if (got(a)) continue;
      const names = missedBy.get(a);
      if (names) names.push(v.viewer);
      else missedBy.set(a, [v.viewer]);
    }
    if (faultEndedAt === undefined) continue;
    // Healed once the viewer has the first message acked after the fault's end and everything
    // before it: what a user sees as "the chat is back". Lost messages (counted above) aside.
    const first = due.filter((a) => a.at > faultEndedAt && got(a)).sort((x, y) => x.at - y.at)[0];
    for (const a of due) if (first && a.seq <= first.seq && got(a)) healAt = Math.max(healAt, received.get(a.seq)!.at);
  }
  const atViewers = new Tally();
  for (const [a, names] of missedBy) {
    lost.add(`${a.room}#${a.seq}`);
    atViewers.add(`${a.room} seq ${a.seq} (${a.identity}) never reached ${names.length} viewer(s), e.g. ${names[0]}`);
  }
  const healMs = faultEndedAt === undefined ? undefined : Math.round(healAt - faultEndedAt);
  return { lost: lost.size, inPostgres, atViewers, healMs };
}

/** Judges an experiment; `faultEndedAt` (performance.now()) is when the fault was undone. */
export function verify(acks: AckRecord[], viewers: ViewerLog[], rows: StoredRow[], faultEndedAt?: number): Verdict {
  const streams = judgeStreams(viewers);
  const names = judgeNames(acks, viewers, rows);
  const delivery = judgeDelivery(acks, viewers, rows, faultEndedAt);
  return {
    figures: {
      acked: acks.length,
      lost: delivery.lost,
      lostInPostgres: delivery.inPostgres.count,
      lostAtViewers: delivery.atViewers.count,
      duplicated: names.duplicated.count + streams.twice.count,
      reusedSeqs: names.reused.count,
      gaps: streams.gaps.count,
      resets: streams.resets,
      unrecovered: streams.unrecovered,
      healMs: delivery.healMs,
    },
    examples: {
      lost: [...delivery.inPostgres.examples, ...delivery.atViewers.examples].slice(0, EXAMPLES),
      duplicated: [...names.duplicated.examples, ...streams.twice.examples].slice(0, EXAMPLES),
      reused: names.reused.examples,
      gaps: streams.gaps.examples,
    },
  };
}

/** One line per experiment for the README's table. */
export function figureLine(experiment: string, f: Figures, extra = ''): string {
  const heal = f.healMs === undefined ? '–' : `${f.healMs} ms`;
  return (
    `chaos | ${experiment} | acked ${f.acked} | lost ${f.lost} (Postgres ${f.lostInPostgres}, viewers ${f.lostAtViewers}) | ` +
    `duplicated ${f.duplicated} | reused seqs ${f.reusedSeqs} | gaps ${f.gaps} | resets ${f.resets} | unrecovered ${f.unrecovered} | heal ${heal}` +
    (extra ? ` | ${extra}` : '')
  );
}
