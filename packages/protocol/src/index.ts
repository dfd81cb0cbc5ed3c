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

export { CloseCode, Encoding, isReconnectCode, TOKEN_SUBPROTOCOL_PREFIX, WS_PATH } from './socket';

/** Room ids are NATS subject tokens and Redis hash tags, so they are restricted to a safe alphabet. */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A room kind's two spellings, one per kind, and the way back. */
function spelling<Live extends string, Private extends string>(live: Live, priv: Private) {
  return {
    of: (kind: RoomKind | null | undefined): Live | Private | undefined =>
      kind === RoomKind.ROOM_KIND_LIVE ? live : kind === RoomKind.ROOM_KIND_PRIVATE ? priv : undefined,
    kindOf: (text: string): RoomKind | undefined => (text === live ? RoomKind.ROOM_KIND_LIVE : text === priv ? RoomKind.ROOM_KIND_PRIVATE : undefined),
  };
}

// NATS subjects and Redis key names spell a private room "dm"; Postgres records (room_kind),
// logs, metrics labels and roomKey spell it "private". Both are stored, so neither may change.
const TOKEN = spelling('live', 'dm');
const NAME = spelling('live', 'private');

/** A room kind as NATS subjects and Redis key names spell it ("live", "dm"). */
export const roomKindToken = TOKEN.of;
/** The room kind a roomKindToken names, or undefined. */
export const roomKindOfToken = TOKEN.kindOf;
/** A room kind as Postgres columns (room_kind), logs and metrics labels spell it ("live", "private"). */
export const roomKindName = NAME.of;
/** The room kind a roomKindName names, or undefined. */
export const roomKindOfName = NAME.kindOf;

/** Stable text form of a room, e.g. "live:abc" — used in logs, metrics labels and local maps. */
export function roomKey(room: Room): string {
  return `${roomKindName(room.kind) ?? 'unknown'}:${room.id ?? ''}`;
}
