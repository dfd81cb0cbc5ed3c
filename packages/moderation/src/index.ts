// The moderation state: roles, read by every service through createModerationState, and the
// rules of who may act on whom. The moderation workers own and write it (their writes use the
// scope cache here too, so its cached form is known in one place).
export { createModerationState, type ModerationState, type ModerationStateDeps } from './state';
export { assertMayActOn, assertMayManageModerators, assertMayModerate, mayActOn, mayManageModerators, mayModerate, roleName } from './roles';
export { channelScope, createScopeCache, loadScope, SCOPE_PIECE, STAFF_SCOPE, streamScope, type Scope } from './scopes';
export { type VersionedCache } from './versioned-cache';
export { createVersionedCacheStore, type CachedPiece, type VersionedCacheStore } from './versioned-cache-store';
export {
  createRoomSettings,
  DEFAULT_ROOM_SETTINGS,
  loadRoomSettings,
  publicSettings,
  ROOM_SETTINGS_PIECE,
  type RoomSettings,
  type RoomSettingsCache,
  type RoomSettingsReader,
} from './room-settings';
export {
  BannedError,
  createRoomSanctions,
  createRoomSanctionsCache,
  loadRoomSanctions,
  TimedOutError,
  type ActiveSanction,
  type RoomSanctionMap,
  type RoomSanctions,
} from './room-sanctions';
