// @lomi/client: the Lomi Chat SDK for browsers and Node. This entry has no Node-only import;
// in Node 20 (no global WebSocket) the package's "node" export adds the `ws` fallback.
export { LomiClient, type ConnectOptions, type RoomSettingsChange, type SanctionOptions, type SendOptions } from './client';
export type { ClientEvents, ConnectionState, RoomResetEvent, RestoredSendResult } from './events';
export type { OutboxStore, PersistedSend } from './outbox';
export type { WebSocketLike, WebSocketConstructor, TokenTransport } from './transport';
export { ConnectError } from './transport';
export * from './errors';
export {
  CloseCode,
  Encoding,
  ErrorCode,
  FilterAction,
  MessageKind,
  ModeratorScope,
  Role,
  RoomKind,
  Sanction,
  TOKEN_SUBPROTOCOL_PREFIX,
  WS_PATH,
  roomKey,
  lomi,
  type ChatMessage,
  type ClientFrame,
  type Room,
  type ServerFrame,
} from './protocol';
