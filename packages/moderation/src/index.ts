// The moderation state: roles, read by every service through createModerationState, and the
// rules of who may act on whom. The moderation workers own and write it (their writes use the
// scope cache here too, so its Redis form is known in one place).
export { createModerationState, type ModerationState, type ModerationStateDeps } from './state';
export { assertMayActOn, assertMayManageModerators, assertMayModerate, mayActOn, mayManageModerators, mayModerate, roleName } from './roles';
export { channelScope, createScopeCache, loadScope, STAFF_SCOPE, streamScope, type Scope } from './scopes';
export {
  createRoomSettings,
  DEFAULT_ROOM_SETTINGS,
  loadRoomSettings,
  publicSettings,
  type RoomSettings,
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
