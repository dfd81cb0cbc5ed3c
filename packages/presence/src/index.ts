// Presence state: who views each live room, which sockets each user has open, who types, the
// join/leave digests and the sweeper's work list — each a store over the hot state (Redis or
// memory). The presence workers change it; every other service reads it via PresenceReader.
export { createActiveRoomsStore, type ActiveRoomsStore } from './active-rooms';
export { createJoinLeaveDigestStore, type Announced, type Digest, type DigestSettings, type JoinLeaveDigestStore } from './join-leave-digest';
export { createPresenceReader, type PresenceReader } from './reader';
export {
  createRoomPresenceStore,
  createRoomViewers,
  type PresenceChange,
  type PresenceReport,
  type RoomPresenceStore,
  type RoomViewers,
  type Session,
  type ViewerPushPolicy,
} from './room-presence';
export { USERS_PER_SCRIPT } from './presence-parts';
export { createTypingStore, type TypingChange, type TypingSettings, type TypingStore } from './typing';
export { createUserConnectionsStore, type Connection, type UserConnectionsStore } from './user-connections';
