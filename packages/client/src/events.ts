// The events a client emits, each with its payload type, and the small emitter behind `on`.
import type { LomiError } from './errors';
import type { ChatMessage, Room, lomi } from './protocol';

/** Where the connection is: `connecting` until the first socket opens, `reconnecting` between sockets, `closed` for good. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** A room's history was reset (see RoomReset in chat.proto); the room goes on under `epoch`. */
export interface RoomResetEvent {
  room: Room;
  epoch: string;
  previousEpoch: string;
  /** The previous epoch's highest seq still stored. */
  lastSeq: number;
  /** The new epoch's seqs follow this one. */
  startSeq: number;
  /**
   * True when this client holds messages after lastSeq, which are gone from history (acked, then
   * lost with the store): reload the room with `history` to show what is stored. False: nothing
   * it holds was lost, and messages simply continue after startSeq.
   */
  reload: boolean;
}

/** A send restored from the outbox's persistence hook: what was sent, and how it ended. */
export interface RestoredSendResult {
  clientMsgId: string;
  room: Room;
  ack?: lomi.chat.v1.ISendAck;
  error?: Error;
}

export interface ClientEvents {
  /** A room message, in seq order per room, each seq once; batches are unpacked. */
  message: (message: ChatMessage) => void;
  /**
   * Several messages of one room arrived in one frame (a busy room): after their `message`
   * events, the new ones together, for a view that renders a burst at once.
   */
  batch: (room: Room, messages: ChatMessage[]) => void;
  roomClosed: (event: lomi.chat.v1.IRoomClosed) => void;
  /** A live room's viewer count changed. */
  viewers: (event: lomi.chat.v1.IViewerCount) => void;
  /** The other member of a private room started or stopped typing. */
  typing: (event: lomi.chat.v1.ITypingEvent) => void;
  /** A member of a private room moved their read or delivery receipt. */
  receipt: (event: lomi.chat.v1.IReceiptEvent) => void;
  /** A live room's pin changed; without `pin`, it was removed or expired. */
  pin: (event: lomi.chat.v1.IPinUpdate) => void;
  /** A live room's settings changed (slow mode, word filter; the block list's terms are left out). */
  roomSettings: (event: lomi.chat.v1.IRoomSettingsUpdate) => void;
  /** Messages of a room were deleted: show each of `seqs` as a tombstone (history returns them so too). */
  messageDeleted: (event: lomi.chat.v1.IMessageDeleted) => void;
  /**
   * A user of a live room was timed out, banned, or let off (sanction NONE). When the user is
   * this client's (banned), the room is no longer joined: `roomLost` follows with a BannedError.
   */
  userSanctioned: (event: lomi.chat.v1.IUserSanctioned) => void;
  /** A joined room's history was reset: see `reload`. Later messages continue after its startSeq. */
  reset: (event: RoomResetEvent) => void;
  /** The server will close the connection when its token expires; the SDK refreshes it if it has `refreshToken`. */
  tokenExpiring: (event: lomi.chat.v1.ITokenExpiring) => void;
  /** The connection carries a new token (sent in band, or used for a new socket after a 4401). */
  tokenRefreshed: (how: 'in-band' | 'reconnect') => void;
  /** A server error frame that answers no request, or a background step that failed (a token refresh). */
  error: (error: LomiError | Error) => void;
  /** Every push as decoded, before its typed event: for pushes without one in this SDK version. */
  push: (frame: lomi.chat.v1.ServerFrame) => void;
  /** The connection state changed. */
  state: (state: ConnectionState, previous: ConnectionState) => void;
  /** The connection dropped (or a connect attempt failed) and the next attempt comes in `delayMs`. */
  reconnecting: (attempt: number, delayMs: number, closeCode: number, reason: string) => void;
  /**
   * The connection is back (a new socket is open). Its rooms are not joined again yet: each is
   * rejoined on its own right after, and reported by `rejoined` or `roomLost`.
   */
  reconnected: () => void;
  /** A room was joined again after a reconnect; `recovered` as in the join reply (false also fires `recoveryFailed`). */
  rejoined: (room: Room, recovered: boolean) => void;
  /** A room's rejoin failed with a passing error (`error`); it is tried again in `delayMs`. */
  rejoining: (room: Room, attempt: number, delayMs: number, error: Error) => void;
  /**
   * A room is no longer joined though the app did not leave it: its rejoin after a reconnect was
   * refused for good or kept failing, or this user was banned from it.
   */
  roomLost: (room: Room, error: Error) => void;
  /** A room could not be recovered after a reconnect (history was reset or is too long): reload it with `history`. */
  recoveryFailed: (room: Room) => void;
  /** A send that the outbox's persistence hook restored (from an earlier run) was acked or refused. */
  restoredSend: (result: RestoredSendResult) => void;
  /** The connection closed for good (closed by the app, refused by the server, or reconnect off). */
  close: (code: number, reason: string) => void;
}

type Listeners = { [K in keyof ClientEvents]?: Set<ClientEvents[K]> };

export class Emitter {
  private readonly listeners: Listeners = {};

  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    const set = (this.listeners[event] ??= new Set() as NonNullable<Listeners[K]>) as Set<ClientEvents[K]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof ClientEvents>(event: K, ...args: Parameters<ClientEvents[K]>): void {
    const set = this.listeners[event] as Set<(...a: Parameters<ClientEvents[K]>) => void> | undefined;
    if (set) for (const l of [...set]) l(...args);
  }
}
