// Presence as every other service reads it. The presence workers own it (they alone change it);
// the message workers ask here, through the same stores, so how it is kept may change.
import type { HotState } from '@lomi/hot-state';
import type { Room } from '@lomi/protocol';
import { createRoomViewers } from './room-presence';
import { createUserConnectionsStore } from './user-connections';

export interface PresenceReader {
  /** Distinct users viewing the live room now. */
  viewerCount(room: Room): Promise<number>;
  /** For each of `userIds`, whether the live room's viewer count already holds them. */
  counted(room: Room, userIds: string[]): Promise<boolean[]>;
  /** Whether the user has a socket open on any gateway. */
  isOnline(userId: string): Promise<boolean>;
}

/** Takes any context with the hot state (a worker's, say). */
export function createPresenceReader({ hot }: { hot: HotState }): PresenceReader {
  const viewers = createRoomViewers(hot);
  const connections = createUserConnectionsStore(hot);
  return { viewerCount: viewers.count, counted: viewers.counted, isOnline: connections.isOnline };
}
