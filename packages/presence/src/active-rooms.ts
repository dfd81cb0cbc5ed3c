// The seam of the sweeper's work list: every room with presence or typing state, with its last
// activity. A room leaves the list only when a sweep found it empty AND nothing touched it since
// well before that sweep began, checked atomically, so a join racing the sweep is never
// forgotten. The sweep lock beside it lets one worker sweep per tick.
import type { HotState } from '@lomi/hot-state';
import type { Room } from '@lomi/protocol';
import { createMemoryActiveRooms } from './active-rooms-memory';
import { createRedisActiveRooms } from './active-rooms-redis';

export interface ActiveRoomsStore {
  /** Lists the room, as active now. */
  touch(room: Room): Promise<void>;
  list(): Promise<Room[]>;
  /** Drops a room a sweep that began at `sweepStartedAt` (Unix ms) found without any state. */
  forgetIfIdle(room: Room, sweepStartedAt: number): Promise<void>;
  /** Takes the sweep lock for `ttlMs` unless someone holds it; returns whether `holder` got it. */
  lockSweep(holder: string, ttlMs: number): Promise<boolean>;
}

/** Margin for the workers' clocks, which time the touches, not agreeing to the millisecond. */
export const CLOCK_SKEW_MS = 5000;

export function createActiveRoomsStore(hot: HotState): ActiveRoomsStore {
  return hot.kind === 'redis' ? createRedisActiveRooms(hot.redis, hot.keys) : createMemoryActiveRooms(hot.memory);
}
