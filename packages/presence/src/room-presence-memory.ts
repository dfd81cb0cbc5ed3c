// Room presence in this process's memory, with the Redis scripts' semantics: each operation runs
// synchronously on the room's state, so it is atomic per room as a script is.
import { bySortedSetOrder, type MemoryNamespace, type TtlMap } from '@lomi/hot-state';
import { roomKey, type Room } from '@lomi/protocol';
import {
  PRESENCE_KEEP_MS,
  type PresenceChange,
  type PresenceReport,
  type RoomPresenceStore,
  type RoomViewers,
  type Session,
  type ViewerPushPolicy,
} from './room-presence';

interface RoomState {
  /** "<user>|<gateway>" → expiry (Unix ms). */
  entries: Map<string, number>;
  /** No entry expires before this: a room's operations scan for expired entries only from then on. */
  earliest: number;
  /** User → how many entries they hold: the viewer count is its size. */
  viewers: Map<string, number>;
  /** User → session start. */
  since: Map<string, number>;
  ever: Set<string>;
  /** Entry → sent-at of the newest report of its leave. */
  left: Map<string, number>;
  peak: number;
  pushed: number | undefined;
  pushedAt: number;
  ended: boolean;
}

type PresenceOp = 'add' | 'remove' | 'sweep' | 'end';

function roomsOf(memory: MemoryNamespace): TtlMap<string, RoomState> {
  return memory.part('room-presence', () => memory.ttlMap<string, RoomState>());
}

export function createMemoryRoomViewers(memory: MemoryNamespace): RoomViewers {
  const rooms = roomsOf(memory);
  return {
    count: async (room) => rooms.get(roomKey(room))?.viewers.size ?? 0,
    counted: async (room, userIds) => {
      const viewers = rooms.get(roomKey(room))?.viewers;
      return userIds.map((user) => viewers?.has(user) ?? false);
    },
  };
}

export function createMemoryRoomPresence(memory: MemoryNamespace, policy: ViewerPushPolicy): RoomPresenceStore {
  const rooms = roomsOf(memory);

  function run(room: Room, op: PresenceOp, report: PresenceReport, userIds: string[]): PresenceChange {
    const now = memory.now();
    const key = roomKey(room);
    const state: RoomState = rooms.get(key) ?? {
      entries: new Map(),
      earliest: Infinity,
      viewers: new Map(),
      since: new Map(),
      ever: new Set(),
      left: new Map(),
      peak: 0,
      pushed: undefined,
      pushedAt: 0,
      ended: false,
    };
    const { entries, viewers, since, left } = state;
    const { gatewayId, ttlMs, sentAtMs } = report;
    const arrivals: Session[] = [];
    const departures: Session[] = [];

    function depart(entry: string): void {
      entries.delete(entry);
      const user = entry.slice(0, entry.lastIndexOf('|'));
      const held = (viewers.get(user) ?? 0) - 1;
      if (held > 0) return void viewers.set(user, held);
      viewers.delete(user);
      departures.push({ userId: user, since: since.get(user) ?? now });
      since.delete(user);
    }

    if (op === 'end' || state.earliest <= now) {
      const gone = [...entries].filter(([, expiry]) => op === 'end' || expiry <= now);
      gone.sort(bySortedSetOrder);
      for (const [entry] of gone) depart(entry);
      state.earliest = Infinity;
      for (const expiry of entries.values()) state.earliest = Math.min(state.earliest, expiry);
    }
    if (op === 'end') state.ended = true;

    if (op === 'add' && !state.ended && sentAtMs + ttlMs > now) {
      // A leave older than the TTL cannot be overtaken by any report still valid.
      for (const [entry, at] of left) if (at <= now - ttlMs) left.delete(entry);
      for (const user of userIds) {
        const entry = `${user}|${gatewayId}`;
        const leftAt = left.get(entry);
        if (leftAt !== undefined && leftAt >= sentAtMs) continue;
        left.delete(entry);
        const expiry = entries.get(entry);
        // A late report never shortens the expiry a newer one set.
        if (expiry !== undefined) {
          if (sentAtMs + ttlMs > expiry) entries.set(entry, sentAtMs + ttlMs);
          continue;
        }
        entries.set(entry, sentAtMs + ttlMs);
        state.earliest = Math.min(state.earliest, sentAtMs + ttlMs);
        const held = (viewers.get(user) ?? 0) + 1;
        viewers.set(user, held);
        if (held === 1) {
          since.set(user, now);
          state.ever.add(user);
          arrivals.push({ userId: user, since: now });
        }
      }
    } else if (op === 'remove') {
      for (const user of userIds) {
        const entry = `${user}|${gatewayId}`;
        const expiry = entries.get(entry);
        if (expiry !== undefined && expiry - ttlMs > sentAtMs) continue;
        left.set(entry, Math.max(left.get(entry) ?? -Infinity, sentAtMs));
        if (expiry !== undefined) depart(entry);
      }
    }

    const count = viewers.size;
    state.peak = Math.max(state.peak, count);
    let push = false;
    const interval = Math.max(policy.intervalMs, Math.min((count * 1000) / policy.deliveriesPerS, policy.intervalMaxMs));
    if (!state.ended && count !== state.pushed && now - state.pushedAt >= interval) {
      state.pushed = count;
      state.pushedAt = now;
      push = true;
    }
    rooms.set(key, state, PRESENCE_KEEP_MS);
    return { room, count, peak: state.peak, everCount: state.ever.size, push, arrivals, departures };
  }

  const none: PresenceReport = { gatewayId: '', ttlMs: 0, sentAtMs: 0 };
  return {
    ...createMemoryRoomViewers(memory),
    add: async (room, report, userIds) => run(room, 'add', report, userIds),
    remove: async (room, report, userIds) => run(room, 'remove', report, userIds),
    sweep: async (room) => run(room, 'sweep', none, []),
    end: async (room) => run(room, 'end', none, []),
  };
}
