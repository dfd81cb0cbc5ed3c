// The seam of who is in a live room. One entry per user per gateway, each with an expiry that
// the gateway's reports push ahead: a user on two gateways holds two entries and counts once,
// arriving with their first entry and departing with their last, and a dead gateway's viewers
// expire on their own. Every operation is atomic per room and first drops the expired entries,
// so nothing anyone reads is ever stale by more than the sweep that just ran.
import type { HotState } from '@lomi/hot-state';
import type { Room } from '@lomi/protocol';
import { createMemoryRoomPresence, createMemoryRoomViewers } from './room-presence-memory';
import { createRedisRoomPresence, createRedisRoomViewers } from './room-presence-redis';

/** A viewing session: the user and when it began (Unix ms). */
export interface Session {
  userId: string;
  since: number;
}

/** What one operation did to a live room. */
export interface PresenceChange {
  room: Room;
  /** Distinct users present now. */
  count: number;
  peak: number;
  /** Distinct users who have ever been present. */
  everCount: number;
  /** True when this count is to be published now (see ViewerPushPolicy). */
  push: boolean;
  arrivals: Session[];
  departures: Session[];
}

/** What a gateway report says: its gateway, its TTL and when it was sent (Unix ms). */
export interface PresenceReport {
  gatewayId: string;
  ttlMs: number;
  sentAtMs: number;
}

/**
 * When a changed count is to be published: only a count not yet published, at most once per
 * interval; every push goes to every viewer, so a big room's interval grows with it
 * (count / deliveriesPerS seconds), up to intervalMaxMs. A count held back is published by a
 * later sweep of the room.
 */
export interface ViewerPushPolicy {
  intervalMs: number;
  deliveriesPerS: number;
  intervalMaxMs: number;
}

/** The viewer count as other services read it. */
export interface RoomViewers {
  /** Distinct users viewing the live room now. */
  count(room: Room): Promise<number>;
  /** For each of `userIds`, whether the room's viewer count holds them. */
  counted(room: Room, userIds: string[]): Promise<boolean[]>;
}

export interface RoomPresenceStore extends RoomViewers {
  /**
   * Creates or refreshes the users' entries of the report's gateway until sent-at + TTL. Reports
   * may be applied out of order: a report never shortens an entry's expiry, and an entry whose
   * leave was reported at or after this report's sent-at stays gone.
   */
  add(room: Room, report: PresenceReport, userIds: string[]): Promise<PresenceChange>;
  /** Drops the users' entries of the report's gateway, unless a newer report refreshed them. */
  remove(room: Room, report: PresenceReport, userIds: string[]): Promise<PresenceChange>;
  /** Drops expired entries; also publishes a count that an earlier change could not. */
  sweep(room: Room): Promise<PresenceChange>;
  /** The stream ended: everyone departs and nobody arrives any more. */
  end(room: Room): Promise<PresenceChange>;
}

/** How long a room's presence state outlives its last activity (its peak and total included). */
export const PRESENCE_KEEP_MS = 24 * 3600 * 1000;

export function createRoomPresenceStore(hot: HotState, push: ViewerPushPolicy): RoomPresenceStore {
  return hot.kind === 'redis' ? createRedisRoomPresence(hot.redis, hot.keys, push) : createMemoryRoomPresence(hot.memory, push);
}

export function createRoomViewers(hot: HotState): RoomViewers {
  return hot.kind === 'redis' ? createRedisRoomViewers(hot.redis, hot.keys) : createMemoryRoomViewers(hot.memory);
}
