// The end of a fault experiment: waiting until the viewers have what they are owed and the
// persister has drained (or until it is clear they never will), and reading what Postgres holds.
import type { createDb } from '@lomi/db';
import { connectRedis, createKeys, OUTBOX_SHARDS } from '@lomi/hot-state';
import { createLogger } from '@lomi/service-runtime';
import type { Room } from '@lomi/protocol';
import { identityOf, type ViewerLog } from './chaos-client';
import type { AckRecord } from './traffic';

const POLL_MS = 100;

/** The private Postgres of a test file (topology.ts). */
type Store = ReturnType<typeof createDb>;

export interface StoredRow {
  room: string;
  seq: number;
  identity: string;
}

/**
 * The tables of `namespace`: its own Postgres schema where the services keep one per namespace,
 * else the shared public schema.
 */
export async function tablesOf(db: Store, namespace: string): Promise<ReturnType<Store['withSchema']>> {
  const schemas = await db.introspection.getSchemas();
  return db.withSchema(schemas.some((s) => s.name === namespace) ? namespace : 'public');
}

/** Every stored message of `rooms` in Postgres. */
export async function storedRows(db: Store, namespace: string, rooms: Room[]): Promise<StoredRow[]> {
  if (rooms.length === 0) return [];
  const rows = await (
    await tablesOf(db, namespace)
  )
    .selectFrom('messages')
    .select(['room_kind', 'room_id', 'seq', 'sender_id', 'client_msg_id'])
    .where(
      'room_id',
      'in',
      rooms.map((r) => r.id ?? ''),
    )
    .execute();
  return rows.map((r) => ({ room: `${r.room_kind}:${r.room_id}`, seq: r.seq, identity: identityOf(r.sender_id, r.client_msg_id) }));
}

export function byRoom(acks: AckRecord[]): Map<string, AckRecord[]> {
  const rooms = new Map<string, AckRecord[]>();
  for (const a of acks) {
    const list = rooms.get(a.room);
    if (list) list.push(a);
    else rooms.set(a.room, [a]);
  }
  return rooms;
}

/** The acked messages a viewer must have: its room's, after where its stream began. */
export function owed(view: ViewerLog, acks: Map<string, AckRecord[]>): AckRecord[] {
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
export async function settle(acks: AckRecord[], viewers: ViewerLog[], reconnecting: () => boolean, { quietMs = 3000, timeoutMs = 20_000 } = {}): Promise<void> {
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
  db: Store,
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
      const rows = await storedRows(db, namespace, rooms).catch(() => undefined);
      const now = performance.now();
      if (rows) {
        const stored = new Set(rows.map((r) => `${r.room}#${r.seq}#${r.identity}`));
        if (acks.every((a) => stored.has(`${a.room}#${a.seq}#${a.identity}`))) return rows;
        // Nothing left to persist, or a room the persister is stuck on (the others are done).
        const keys = createKeys(namespace);
        const backlog = await Promise.all(Array.from({ length: OUTBOX_SHARDS }, (_, s) => redis.scard(keys.outboxRooms(s))))
          .then((sizes) => sizes.reduce((a, b) => a + b, 0))
          .catch(() => 1);
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
