// Tells the presence workers who is on this gateway: every socket (for "is this user online"),
// and which users are in which live room (for viewer counts and join/leave messages). Changes are
// reported as they happen, but only at the edges that matter — a user's FIRST connection here
// joining a room, their LAST one leaving it — and a heartbeat repeats the whole state
// periodically. The workers hold every entry with the TTL we state, so if this process dies
// without a word its users disappear when the TTL runs out.
import type { NatsConnection } from 'nats';
import type { Logger, Subjects } from '@lomi/common';
import { internal, roomKey, RoomKind, type lomi, type Room } from '@lomi/protocol';

/** A heartbeat is split into reports of about this many bytes, far below NATS's 1 MB default. */
const CHUNK_BYTES = 128 * 1024;
/** Protobuf framing per repeated string, a bound for the chunk estimate. */
const ENTRY_OVERHEAD_BYTES = 8;

export interface PresenceReporterOptions {
  nc: NatsConnection;
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

export function startPresenceReporter(options: PresenceReporterOptions) {
  const { nc, subjects, gatewayId, ttlMs, log } = options;
  /** Live room key → the room and, per user, how many of their sockets here are in it. */
  const rooms = new Map<string, { room: Room; users: Map<string, number> }>();
  /** Open sockets: connection id → user id. */
  const connections = new Map<string, string>();

  function publish(report: lomi.internal.v1.IPresenceReport): void {
    try {
      // A monotonic clock with sub-millisecond precision: reports of one gateway never tie.
      const sentAtMs = performance.timeOrigin + performance.now();
      nc.publish(subjects.presenceReports, internal.PresenceReport.encode({ ...report, gatewayId, ttlMs, sentAtMs }).finish());
    } catch (err) {
      // A closed connection while stopping: the TTL takes care of whatever this report said.
      log.warn({ err: (err as Error).message }, 'presence report not sent');
    }
  }

  function heartbeat(): void {
    let chunk: lomi.internal.v1.IPresenceHeartbeat = { rooms: [], connections: [] };
    let size = 0;
    /** Counts an entry into the chunk; sends the chunk when it is full and says so. */
    const added = (bytes: number): boolean => {
      size += bytes + ENTRY_OVERHEAD_BYTES;
      if (size < CHUNK_BYTES) return false;
      publish({ heartbeat: chunk });
      chunk = { rooms: [], connections: [] };
      size = 0;
      return true;
    };
    for (const [connectionId, userId] of connections) {
      chunk.connections!.push({ connectionId, userId });
      added(connectionId.length + userId.length);
    }
    for (const { room, users } of rooms.values()) {
      // A room split over chunks gets one entry per chunk.
      let entry: lomi.internal.v1.IRoomUsers | undefined;
      for (const userId of users.keys()) {
        if (!entry) chunk.rooms!.push((entry = { room, userIds: [] }));
        entry.userIds!.push(userId);
        if (added(userId.length)) entry = undefined;
      }
    }
    if (size > 0) publish({ heartbeat: chunk });
  }

  const timer = setInterval(heartbeat, options.heartbeatMs);
  timer.unref();

  return {
    connected(conn: Who): void {
      connections.set(conn.id, conn.userId);
      publish({ connected: { connectionId: conn.id, userId: conn.userId } });
    },

    disconnected(conn: Who): void {
      connections.delete(conn.id);
      publish({ disconnected: { connectionId: conn.id, userId: conn.userId } });
    },

    /** A socket joined a room. Only live rooms have viewers; private rooms need no presence. */
    joined(conn: Who, room: Room): void {
      if (room.kind !== RoomKind.ROOM_KIND_LIVE) return;
      const key = roomKey(room);
      let entry = rooms.get(key);
      if (!entry) rooms.set(key, (entry = { room: { kind: room.kind, id: room.id }, users: new Map() }));
      const sockets = (entry.users.get(conn.userId) ?? 0) + 1;
      entry.users.set(conn.userId, sockets);
      if (sockets === 1) publish({ joined: { room: entry.room, userId: conn.userId } });
    },

    left(conn: Who, room: Room): void {
      const key = roomKey(room);
      const entry = rooms.get(key);
      const sockets = entry?.users.get(conn.userId);
      if (!entry || sockets === undefined) return;
      if (sockets > 1) return void entry.users.set(conn.userId, sockets - 1);
      entry.users.delete(conn.userId);
      if (entry.users.size === 0) rooms.delete(key);
      publish({ left: { room: entry.room, userId: conn.userId } });
    },

    /** Stops the heartbeat; the sockets' own close reports say goodbye for them. */
    stop(): void {
      clearInterval(timer);
    },
  };
}
