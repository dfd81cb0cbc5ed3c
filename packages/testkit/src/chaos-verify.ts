// The verdict on a fault experiment: every acked (room, seq, client_msg_id) against what each
// viewer got (live, or reloaded after an explicit break) and against Postgres once the
// persister drained. Nothing lost, nothing duplicated, a seq names one message forever, and a
// viewer's seqs run without a gap except at an explicit reset or unrecovered rejoin.
import type { createDb } from '@lomi/db';
import { connectRedis, createKeys, createLogger } from '@lomi/common';
import type { Room } from '@lomi/protocol';
import { identityOf, type ViewerLog } from './chaos-client';
import type { AckRecord } from './traffic';

const EXAMPLES = 5;
const POLL_MS = 100;

export interface StoredRow {
  room: string;
  seq: number;
  identity: string;
}

/** Every stored message of `rooms` in Postgres. */
export async function storedRows(db: ReturnType<typeof createDb>, rooms: Room[]): Promise<StoredRow[]> {
  if (rooms.length === 0) return [];
  const rows = await db
    .selectFrom('messages')
    .select(['room_kind', 'room_id', 'seq', 'sender_id', 'client_msg_id'])
    .where('room_id', 'in', rooms.map((r) => r.id ?? ''))
    .execute();
  return rows.map((r) => ({ room: `${r.room_kind}:${r.room_id}`, seq: r.seq, identity: identityOf(r.sender_id, r.client_msg_id) }));
}

function byRoom(acks: AckRecord[]): Map<string, AckRecord[]> {
  const rooms = new Map<string, AckRecord[]>();
  for (const a of acks) {
    const list = rooms.get(a.room);
    if (list) list.push(a);
    else rooms.set(a.room, [a]);
  }
  return rooms;
}

/** The acked messages a viewer must have: its room's, after where its stream began. */
function owed(view: ViewerLog, acks: Map<string, AckRecord[]>): AckRecord[] {
  return (acks.get(view.key) ?? []).filter((a) => a.seq > view.joinTop);
}

function hasAll(view: ViewerLog, acks: Map<string, AckRecord[]>): boolean {
  const received = view.received();
  return owed(view, acks).every((a) => received.get(a.seq)?.identity === a.identity);
}

/**
 * Waits until every viewer has every acked message it is owed, or until nothing new has arrived
 * for `quietMs` while no client is `reconnecting()` (what is missing then is reported as lost,
 * not waited for), at most `timeoutMs`.
 */
export async function settle(
  acks: AckRecord[],
  viewers: ViewerLog[],
  reconnecting: () => boolean,
  { quietMs = 3000, timeoutMs = 20_000 } = {},
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let progress = -1;
  let changedAt = performance.now();
  for (;;) {
    const rooms = byRoom(acks);
    const complete = viewers.every((v) => hasAll(v, rooms));
    const now = performance.now();
    const arrived = viewers.reduce((n, v) => n + v.events.length + v.reloaded.size, 0);
    if (arrived !== progress || reconnecting()) {
      progress = arrived;
      changedAt = now;
    }
    if (complete || now - changedAt > quietMs || now > deadline) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * Waits until Postgres holds every acked message, or until the persister has nothing left (the
 * namespace's outbox work list is empty), or Postgres stopped changing for `quietMs` (longer
 * than the persister's longest backoff), at most `timeoutMs`.
 */
export async function drained(
  db: ReturnType<typeof createDb>,
  redisUrl: string,
  namespace: string,
  rooms: Room[],
  acks: AckRecord[],
  { quietMs = 8000, timeoutMs = 30_000 } = {},
): Promise<StoredRow[]> {
  const redis = await connectRedis(redisUrl, createLogger('chaos', 'silent'));
  const deadline = performance.now() + timeoutMs;
  let last = -1;
  let changedAt = performance.now();
  try {
    for (;;) {
      const rows = await storedRows(db, rooms).catch(() => undefined);
      const now = performance.now();
      if (rows) {
        const stored = new Set(rows.map((r) => `${r.room}#${r.seq}#${r.identity}`));
        if (acks.every((a) => stored.has(`${a.room}#${a.seq}#${a.identity}`))) return rows;
        // Nothing left to persist, or a room the persister is stuck on (the others are done).
        const backlog = await redis.scard(createKeys(namespace).outboxRooms).catch(() => 1);
        if ((backlog === 0 && rows.length === last) || now - changedAt > quietMs || now > deadline) return rows;
        if (rows.length !== last) {
          last = rows.length;
          changedAt = now;
        }
      } else if (now > deadline) {
        throw new Error(`Postgres unreachable for ${timeoutMs} ms after the experiment`);
      }
      await new Promise((r) => setTimeout(r, 3 * POLL_MS));
    }
  } finally {
    redis.disconnect();
  }
}

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
   * acked after the fault's end and every message before it; undefined without a fault.
   */
  healMs?: number;
}

export interface Verdict {
  figures: Figures;
  /** A few examples of each kind of violation, for failure messages. */
  examples: { lost: string[]; duplicated: string[]; reused: string[]; gaps: string[] };
}

function record(list: string[], line: string): void {
  if (list.length < EXAMPLES) list.push(line);
}

/** Judges an experiment; `faultEndedAt` (performance.now()) is when the fault was undone. */
export function verify(acks: AckRecord[], viewers: ViewerLog[], rows: StoredRow[], faultEndedAt?: number): Verdict {
  const examples: Verdict['examples'] = { lost: [], duplicated: [], reused: [], gaps: [] };
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
  let duplicated = 0;
  let gaps = 0;
  let resets = 0;
  let unrecovered = 0;
  for (const v of viewers) {
    for (const a of v.reloaded.values()) see(v.key, a.seq, a.identity);
    const seen = new Set<number>();
    let prev = v.joinTop;
    let jump: 'reset' | 'unrecovered' | undefined;
    let floor = 0;
    for (const e of v.events) {
      if (e.kind === 'reset') {
        resets += 1;
        floor = e.startSeq;
      } else if (e.kind === 'unrecovered') unrecovered += 1;
      if (e.kind !== 'message') {
        jump = e.kind;
        continue;
      }
      see(v.key, e.seq, e.identity);
      if (seen.has(e.seq)) {
        duplicated += 1;
        record(examples.duplicated, `${v.viewer} got ${v.key} seq ${e.seq} twice`);
      }
      seen.add(e.seq);
      if (jump ? e.seq <= prev || e.seq <= floor : e.seq !== prev + 1) {
        gaps += 1;
        record(examples.gaps, `${v.viewer} in ${v.key}: seq ${prev} then ${e.seq}${jump ? ` after ${jump}` : ''}`);
      }
      prev = e.seq;
      jump = undefined;
    }
  }
  let reusedSeqs = 0;
  for (const [key, names] of seqNames) {
    if (names.size === 1) continue;
    reusedSeqs += 1;
    record(examples.reused, `${key} named ${[...names].join(' and ')}`);
  }
  for (const [key, seqs] of identitySeqs) {
    if (seqs.size === 1) continue;
    duplicated += 1;
    record(examples.duplicated, `${key} under seqs ${[...seqs].join(', ')}`);
  }

  const stored = new Set(rows.map((r) => `${r.room}#${r.seq}#${r.identity}`));
  const lostKeys = new Set<string>();
  let lostInPostgres = 0;
  for (const a of acks) {
    if (stored.has(`${a.room}#${a.seq}#${a.identity}`)) continue;
    lostInPostgres += 1;
    lostKeys.add(`${a.room}#${a.seq}`);
    record(examples.lost, `${a.room} seq ${a.seq} (${a.identity}) acked but not in Postgres`);
  }
  const atViewers = new Set<string>();
  let healAt = faultEndedAt;
  const rooms = byRoom(acks);
  for (const v of viewers) {
    const received = v.received();
    const due = owed(v, rooms);
    for (const a of due) {
      if (received.get(a.seq)?.identity === a.identity) continue;
      atViewers.add(`${a.room}#${a.seq}`);
      lostKeys.add(`${a.room}#${a.seq}`);
      record(examples.lost, `${v.viewer} never got ${a.room} seq ${a.seq} (${a.identity})`);
    }
    if (faultEndedAt === undefined) continue;
    // Healed once the viewer has the first message acked after the fault's end and everything
    // before it: what a user sees as "the chat is back".
    const first = due.filter((a) => a.at > faultEndedAt).sort((x, y) => x.at - y.at)[0];
    if (!first) continue;
    for (const a of due) {
      const got = received.get(a.seq);
      if (a.seq <= first.seq && got?.identity === a.identity) healAt = Math.max(healAt!, got.at);
    }
  }
  const figures: Figures = {
    acked: acks.length,
    lost: lostKeys.size,
    lostInPostgres,
    lostAtViewers: atViewers.size,
    duplicated,
    reusedSeqs,
    gaps,
    resets,
    unrecovered,
    healMs: faultEndedAt === undefined ? undefined : Math.round(healAt! - faultEndedAt),
  };
  return { figures, examples };
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
