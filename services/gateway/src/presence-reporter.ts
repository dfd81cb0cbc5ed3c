// Tells the presence workers who is on this gateway: every socket (for "is this user online"),
// and which users are in which live room (for viewer counts and join/leave messages). Changes are
// reported only at the edges that matter — a user's FIRST connection here joining a room, their
// LAST one leaving it — and a heartbeat repeats the whole state periodically, in slices.
// Changes are sent in batches every REPORT_INTERVAL_MS, which a connect burst needs
// (docs/decisions/0025); a batch holds at most one change per socket and per user of a room, so
// the workers may apply its parts in any order. The workers hold every entry with the TTL we state,
// so if this process dies without a word its users disappear when the TTL runs out.
import type { Bus, Subjects } from '@lomi/bus';
import type { Logger } from '@lomi/service-runtime';
import { internal, roomKey, RoomKind, type lomi, type Room } from '@lomi/protocol';

/** A heartbeat is split into reports of about this many bytes, far below NATS's 1 MB default. */
const CHUNK_BYTES = 128 * 1024;
/** Protobuf framing per repeated string, a bound for the chunk estimate. */
const ENTRY_OVERHEAD_BYTES = 8;
/** How long a change may wait to share a report; viewer counts are pushed at most once a second anyway. */
const REPORT_INTERVAL_MS = 25;
/**
 * A heartbeat goes out as this many reports spread over the first half of its interval, not in
 * one burst (docs/decisions/0026); every entry is still refreshed well within the TTL.
 */
const HEARTBEAT_SLICES = 20;

export interface PresenceReporterOptions {
  bus: Bus;
  subjects: Subjects;
  gatewayId: string;
  heartbeatMs: number;
  ttlMs: number;
  log: Logger;
}

interface Who {
  id: string;
  userId: string;
}

export type PresenceReporter = ReturnType<typeof startPresenceReporter>;

type RoomChange = 'joined' | 'left';

export function startPresenceReporter(options: PresenceReporterOptions) {
  const { bus, subjects, gatewayId, ttlMs, log } = options;
  /** Live room key → the room and, per user, how many of their sockets here are in it. */
  const rooms = new Map<string, { room: Room; users: Map<string, number> }>();
  /** Open sockets: connection id → user id. */
  const connections = new Map<string, string>();
  /** Changes not reported yet, at most one per connection and one per user of a room. */
  const socketChanges = new Map<string, { userId: string; open: boolean }>();
  const roomChanges = new Map<string, { room: Room; users: Map<string, RoomChange> }>();
  let reportTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  function publish(report: lomi.internal.v1.IPresenceReport): void {
    try {
      // A monotonic clock with sub-millisecond precision: reports of one gateway never tie.
      const sentAtMs = performance.timeOrigin + performance.now();
      bus.publish(subjects.presenceReports, internal.PresenceReport.encode({ ...report, gatewayId, ttlMs, sentAtMs }).finish());
    } catch (err) {
      // A closed connection while stopping: the TTL takes care of whatever this report said.
      log.warn({ err: (err as Error).message }, 'presence report not sent');
    }
  }

  /**
   * Collects entries into reports of about CHUNK_BYTES, far below NATS's 1 MB limit, sending
   * each report as it fills and the last one on `end`.
   */
  function chunker(empty: () => lomi.internal.v1.IPresenceReport) {
    let report = empty();
    let size = 0;
    return {
      get report() {
        return report;
      },
      /** Counts an entry into the report; sends the report when it is full and says so. */
      added(bytes: number): boolean {
        size += bytes + ENTRY_OVERHEAD_BYTES;
        if (size < CHUNK_BYTES) return false;
        publish(report);
        report = empty();
        size = 0;
        return true;
      },
      end(): void {
        if (size > 0) publish(report);
      },
    };
  }

  /**
   * Adds one room's users to the list `listOf` picks in the current report, one entry per
   * report: a room split over reports gets an entry in each.
   */
  function addRoomUsers(
    chunks: ReturnType<typeof chunker>,
    listOf: (report: lomi.internal.v1.IPresenceReport) => lomi.internal.v1.IRoomUsers[],
    room: Room,
    userIds: Iterable<string>,
  ): void {
    let entry: lomi.internal.v1.IRoomUsers | undefined;
    for (const userId of userIds) {
      if (!entry) listOf(chunks.report).push((entry = { room, userIds: [] }));
      entry.userIds!.push(userId);
      if (chunks.added(userId.length)) entry = undefined;
    }
  }

  /**
   * Every socket, then every live room's users, read from the live maps as the heartbeat goes:
   * what closed or left before its turn is not listed, so a slice never refreshes anything
   * older than the report that removed it.
   */
  function* heartbeatEntries(): Generator<{ connectionId: string; userId: string } | { room: Room; userId: string }> {
    for (const [connectionId, userId] of connections) yield { connectionId, userId };
    for (const { room, users } of rooms.values()) for (const userId of users.keys()) yield { room, userId };
  }

  let heartbeatLeft: ReturnType<typeof heartbeatEntries> | undefined;
  let heartbeatSliceSize = 0;
  let sliceTimer: NodeJS.Timeout | undefined;

  function heartbeat(): void {
    let entries = connections.size;
    for (const { users } of rooms.values()) entries += users.size;
    heartbeatLeft = heartbeatEntries();
    heartbeatSliceSize = Math.max(1, Math.ceil(entries / HEARTBEAT_SLICES));
    clearTimeout(sliceTimer);
    heartbeatSlice();
  }

  function heartbeatSlice(): void {
    const chunks = chunker(() => ({ heartbeat: { rooms: [], connections: [] } }));
    let roomEntry: lomi.internal.v1.IRoomUsers | undefined;
    for (let n = 0; n < heartbeatSliceSize && heartbeatLeft; n++) {
      const next = heartbeatLeft.next();
      if (next.done) {
        heartbeatLeft = undefined;
        break;
      }
      const entry = next.value;
      if ('connectionId' in entry) {
        chunks.report.heartbeat!.connections!.push(entry);
        if (chunks.added(entry.connectionId.length + entry.userId.length)) roomEntry = undefined;
        continue;
      }
      if (roomEntry?.room !== entry.room) chunks.report.heartbeat!.rooms!.push((roomEntry = { room: entry.room, userIds: [] }));
      roomEntry.userIds!.push(entry.userId);
      if (chunks.added(entry.userId.length)) roomEntry = undefined;
    }
    chunks.end();
    if (heartbeatLeft) sliceTimer = setTimeout(heartbeatSlice, options.heartbeatMs / 2 / HEARTBEAT_SLICES);
  }

  function report(): void {
    clearTimeout(reportTimer);
    reportTimer = undefined;
    const chunks = chunker(() => ({ joined: [], left: [], connected: [], disconnected: [] }));
    for (const [connectionId, { userId, open }] of socketChanges) {
      chunks.report[open ? 'connected' : 'disconnected']!.push({ connectionId, userId });
      chunks.added(connectionId.length + userId.length);
    }
    socketChanges.clear();
    for (const { room, users } of roomChanges.values()) {
      for (const change of ['joined', 'left'] as const) {
        const changed = [...users].filter(([, c]) => c === change).map(([userId]) => userId);
        addRoomUsers(chunks, (r) => r[change]!, room, changed);
      }
    }
    roomChanges.clear();
    chunks.end();
  }

  function changed(): void {
    if (stopped) report();
    else reportTimer ??= setTimeout(report, REPORT_INTERVAL_MS);
  }

  function roomChanged(room: Room, key: string, userId: string, change: RoomChange): void {
    // A user who leaves (or comes back) while the opposite change still waits: that one is sent
    // first, so the workers see both, in order (a visit, however short, is a viewing session).
    if (roomChanges.get(key)?.users.has(userId)) report();
    let entry = roomChanges.get(key);
    if (!entry) roomChanges.set(key, (entry = { room, users: new Map() }));
    entry.users.set(userId, change);
    changed();
  }

  const timer = setInterval(heartbeat, options.heartbeatMs);
  timer.unref();

  return {
    connected(conn: Who): void {
      connections.set(conn.id, conn.userId);
      socketChanges.set(conn.id, { userId: conn.userId, open: true });
      changed();
    },

    disconnected(conn: Who): void {
      connections.delete(conn.id);
      // Its opening is sent first, like a room change above.
      if (socketChanges.has(conn.id)) report();
      socketChanges.set(conn.id, { userId: conn.userId, open: false });
      changed();
    },

    /** A socket joined a room. Only live rooms have viewers; private rooms need no presence. */
    joined(conn: Who, room: Room): void {
      if (room.kind !== RoomKind.ROOM_KIND_LIVE) return;
      const key = roomKey(room);
      let entry = rooms.get(key);
      if (!entry) rooms.set(key, (entry = { room: { kind: room.kind, id: room.id }, users: new Map() }));
      const sockets = (entry.users.get(conn.userId) ?? 0) + 1;
      entry.users.set(conn.userId, sockets);
      if (sockets === 1) roomChanged(entry.room, key, conn.userId, 'joined');
    },

    left(conn: Who, room: Room): void {
      const key = roomKey(room);
      const entry = rooms.get(key);
      const sockets = entry?.users.get(conn.userId);
      if (!entry || sockets === undefined) return;
      if (sockets > 1) return void entry.users.set(conn.userId, sockets - 1);
      entry.users.delete(conn.userId);
      if (entry.users.size === 0) rooms.delete(key);
      roomChanged(entry.room, key, conn.userId, 'left');
    },

    /**
     * Stops the heartbeat and sends what is waiting; changes from now on (the sockets' closes
     * while the gateway stops) go out at once, so they are sent before NATS is drained.
     */
    stop(): void {
      clearInterval(timer);
      clearTimeout(sliceTimer);
      clearTimeout(reportTimer);
      stopped = true;
      report();
    },
  };
}
