// The presence worker's state, each part a store of @lomi/presence over the hot state, set up
// from the worker's configuration.
import {
  createActiveRoomsStore,
  createJoinLeaveDigestStore,
  createRoomPresenceStore,
  createTypingStore,
  createUserConnectionsStore,
  type ActiveRoomsStore,
  type JoinLeaveDigestStore,
  type RoomPresenceStore,
  type TypingStore,
  type UserConnectionsStore,
} from '@lomi/presence';
import type { PresenceContext } from './context';

export interface PresenceStores {
  presence: RoomPresenceStore;
  connections: UserConnectionsStore;
  typing: TypingStore;
  digests: JoinLeaveDigestStore;
  activeRooms: ActiveRoomsStore;
}

export function createPresenceStores({ hot, config }: PresenceContext): PresenceStores {
  return {
    presence: createRoomPresenceStore(hot, {
      intervalMs: config.VIEWER_PUSH_INTERVAL_MS,
      deliveriesPerS: config.VIEWER_PUSH_DELIVERIES_PER_S,
      intervalMaxMs: config.VIEWER_PUSH_INTERVAL_MAX_MS,
    }),
    connections: createUserConnectionsStore(hot),
    typing: createTypingStore(hot, { timeoutMs: config.TYPING_TIMEOUT_MS, pushIntervalMs: config.TYPING_PUSH_INTERVAL_MS }),
    digests: createJoinLeaveDigestStore(hot, { singlesPerInterval: config.JOIN_SINGLE_MESSAGES_PER_INTERVAL, intervalMs: config.JOIN_AGGREGATE_INTERVAL_MS }),
    activeRooms: createActiveRoomsStore(hot),
  };
}
