// The public wire protocol as the SDK speaks it: the classes generated from chat.proto alone (no
// internal bus messages: this module is what a browser downloads) and the two encodings.
// The socket's names are @lomi/protocol/socket's, bundled in (scripts/build.mjs); the SDK is
// published on its own, so the rest restates @lomi/protocol's names, and test/e2e/sdk-package.test.ts
// fails if the two ever differ.
import './long-config';
import { lomi } from '../generated/chat';
import { fromJson, toJson } from './proto-json';

export { lomi };
const v1 = lomi.chat.v1;

export type Room = lomi.chat.v1.IRoom;
export type ChatMessage = lomi.chat.v1.IChatMessage;
export type ClientFrame = lomi.chat.v1.IClientFrame;
export type ServerFrame = lomi.chat.v1.ServerFrame;
export const RoomKind = v1.RoomKind;
export type RoomKind = lomi.chat.v1.RoomKind;
export const MessageKind = v1.MessageKind;
export type MessageKind = lomi.chat.v1.MessageKind;
export const ErrorCode = v1.ErrorCode;
export type ErrorCode = lomi.chat.v1.ErrorCode;
export const Role = v1.Role;
export type Role = lomi.chat.v1.Role;
export const ModeratorScope = v1.ModeratorScope;
export type ModeratorScope = lomi.chat.v1.ModeratorScope;
export const Sanction = v1.Sanction;
export type Sanction = lomi.chat.v1.Sanction;
export const FilterAction = v1.FilterAction;
export type FilterAction = lomi.chat.v1.FilterAction;

import { Encoding } from '@lomi/protocol/socket';

export { CloseCode, Encoding, isReconnectCode, TOKEN_SUBPROTOCOL_PREFIX, WS_PATH } from '@lomi/protocol/socket';

/** Stable text form of a room, e.g. "live:abc", for maps keyed by room. */
export function roomKey(room: Room): string {
  const kind = room.kind === RoomKind.ROOM_KIND_LIVE ? 'live' : room.kind === RoomKind.ROOM_KIND_PRIVATE ? 'private' : 'unknown';
  return `${kind}:${room.id ?? ''}`;
}

export function encodeClientFrame(frame: ClientFrame, encoding: Encoding): Uint8Array | string {
  if (encoding === Encoding.JSON) return JSON.stringify(toJson(frame, 'ClientFrame'));
  return v1.ClientFrame.encode(frame).finish();
}

/** Decodes one WebSocket message: a text frame in the JSON encoding, binary in the proto one. */
export function decodeServerFrame(data: string | ArrayBuffer | Uint8Array, encoding: Encoding): ServerFrame {
  if (encoding === Encoding.JSON) {
    if (typeof data !== 'string') throw new TypeError('the JSON encoding expects text frames');
    return fromJson<ServerFrame>(JSON.parse(data) as Record<string, unknown>, 'ServerFrame');
  }
  if (typeof data === 'string') throw new TypeError('the proto encoding expects binary frames');
  return v1.ServerFrame.decode(data instanceof Uint8Array ? data : new Uint8Array(data));
}

/** The messages of a batch push, each given the room the batch names once. */
export function batchMessages(batch: lomi.chat.v1.IMessageBatch): ChatMessage[] {
  const messages = batch.messages ?? [];
  for (const m of messages) m.room ??= batch.room;
  return messages;
}
