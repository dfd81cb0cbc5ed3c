// The wire protocol in TypeScript: the classes generated from proto/ plus the two encodings.
// Nothing here restates a message shape; it only chooses how a generated message is framed.
import './numbers';
import { lomi } from '../generated/lomi';

export const chat = lomi.chat.v1;
export const internal = lomi.internal.v1;

export type Room = lomi.chat.v1.IRoom;
export type ChatMessage = lomi.chat.v1.IChatMessage;
export type ClientFrame = lomi.chat.v1.IClientFrame;
export type ServerFrame = lomi.chat.v1.IServerFrame;
export type ProtocolError = lomi.chat.v1.IError;
export const RoomKind = lomi.chat.v1.RoomKind;
export type RoomKind = lomi.chat.v1.RoomKind;
export const MessageKind = lomi.chat.v1.MessageKind;
export type MessageKind = lomi.chat.v1.MessageKind;
export const ErrorCode = lomi.chat.v1.ErrorCode;
export type ErrorCode = lomi.chat.v1.ErrorCode;
export const Role = lomi.chat.v1.Role;
export type Role = lomi.chat.v1.Role;
export const ModeratorScope = lomi.chat.v1.ModeratorScope;
export type ModeratorScope = lomi.chat.v1.ModeratorScope;
export const FilterAction = lomi.chat.v1.FilterAction;
export type FilterAction = lomi.chat.v1.FilterAction;
export const Sanction = lomi.chat.v1.Sanction;
export type Sanction = lomi.chat.v1.Sanction;
export { lomi };
export {
  Encoding,
  ENCODINGS,
  FrameDecodeError,
  encodeServerFrame,
  decodeServerFrame,
  batchMessages,
  encodeClientFrame,
  decodeClientFrame,
  illFormedString,
  withJsonNames,
  toJsonOptions,
  int64Json,
} from './encodings';
export { EncodedMessage, encodePush } from './push-frames';

/** A subprotocol entry carrying the JWT, for browsers that cannot set an Authorization header. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'lomi.token.';

/** WebSocket close codes; see the end of chat.proto. */
export const CloseCode = {
  SHUTDOWN: 4000,
  SLOW_CONSUMER: 4001,
  RECOVERY_IMPOSSIBLE: 4002,
  AUTH_FAILED: 4401,
  BANNED: 4403,
} as const;

/** Room ids are NATS subject tokens and Redis hash tags, so they are restricted to a safe alphabet. */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function roomKindName(kind: RoomKind | null | undefined): 'live' | 'private' | undefined {
  if (kind === RoomKind.ROOM_KIND_LIVE) return 'live';
  if (kind === RoomKind.ROOM_KIND_PRIVATE) return 'private';
  return undefined;
}

/** Stable text form of a room, e.g. "live:abc" — used in logs, metrics labels and local maps. */
export function roomKey(room: Room): string {
  return `${roomKindName(room.kind) ?? 'unknown'}:${room.id ?? ''}`;
}
