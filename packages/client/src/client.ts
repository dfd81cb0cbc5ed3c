// The SDK's face: a client that connects (and reconnects) on its own, keeps sends in an outbox
// until acked, rejoins its rooms with recovery, and turns every push into a typed event.
import { Connection } from './connection';
import { BannedError, ClientClosedError, fromErrorFrame } from './errors';
import { Emitter, type ClientEvents, type ConnectionState } from './events';
import { Outbox, type OutboxStore, type PersistedSend } from './outbox';
import {
  batchMessages,
  Encoding,
  ErrorCode,
  ModeratorScope,
  roomKey,
  Sanction,
  type ClientFrame,
  type FilterAction,
  type lomi,
  type Room,
  type ServerFrame,
} from './protocol';
import { Rooms } from './rooms';
import { tokenClaims } from './token';
import type { TokenTransport, WebSocketConstructor } from './transport';

export interface ConnectOptions {
  /**
   * Base URL of a gateway, e.g. wss://chat.example.com (the path is added), or several: each
   * attempt after a failure or close tries the next, so a client outlives any one gateway
   * without a load balancer.
   */
  url: string | string[];
  token: string;
  /**
   * Gives a new token. Called when the server says the token is about to expire (the new one is
   * sent in band, the socket lives on), after a close with 4401 or an upgrade refused with 401
   * (then the client reconnects with it), and before a reconnect with a token that expires
   * within 10 s. Without it a 4401 ends the session.
   */
  refreshToken?: () => string | Promise<string>;
  /**
   * Connect again after a failed attempt or an unexpected close (default true), the first
   * connect too: rooms are joined again with the last seen seq, and the missed messages arrive
   * as `message` events, in order, before live ones. A rejoin refused with UNAVAILABLE, INTERNAL
   * or RATE_LIMITED, or unanswered, is retried with backoff (10 attempts); any other refusal
   * (FORBIDDEN, NOT_FOUND, ROOM_CLOSED, …) drops the room at once (`roomLost`). Close codes
   * 4400–4499 end the session (but 4401 with `refreshToken`).
   */
  reconnect?: boolean;
  /**
   * The first attempt after a close waits a random time in [0, this) ms ("full jitter"), each
   * further one in a window twice as long, up to `reconnectMaxMs`. Default 2000: a gateway that
   * goes away with 10,000 clients sees them come back spread over two seconds.
   */
  reconnectWindowMs?: number;
  /** The longest backoff window (default 30 s). */
  reconnectMaxMs?: number;
  /** A connection that stayed up this long (default 10 s) starts the next backoff at the first window again. */
  stableAfterMs?: number;
  encoding?: Encoding;
  /** Where the token travels: `header` needs a WebSocket that accepts headers (the `ws` package). */
  tokenTransport?: TokenTransport;
  /** A WebSocket class; default: the global one (browsers, Node 22+), else the `ws` package in Node. */
  WebSocket?: WebSocketConstructor;
  /** How long a command waits for its reply (default 10 s). */
  requestTimeoutMs?: number;
  /** How long one connect attempt may take (default 10 s). */
  connectTimeoutMs?: number;
  /** The client pings this often (default 20 s)… */
  pingIntervalMs?: number;
  /** …and gives the socket up when a pong takes longer than this (default 10 s). */
  pingTimeoutMs?: number;
  /** The most sends the outbox holds unacked (default 1000); more reject with OutboxFullError. */
  outboxLimit?: number;
  /** Keeps unsent messages across app restarts. */
  outboxStore?: OutboxStore;
  /**
   * How long a send may wait for its ack, time in the outbox included (default 60 s; 0: until
   * the client closes). Past it the send leaves the outbox and rejects with SendTimeoutError.
   * Per send: `send(room, text, { timeoutMs })`.
   */
  sendTimeoutMs?: number;
  /** `typing(room, true)` is sent at most this often per room (default 2 s; the server forgets it after 5 s). */
  typingIntervalMs?: number;
}

type Ack = lomi.chat.v1.ISendAck;

/** Options of one send. */
export interface SendOptions {
  /** The idempotency key: pass the same one to retry a send yourself (stored once). Default: a new UUID. */
  clientMsgId?: string;
  /** Overrides the client's `sendTimeoutMs` for this send. */
  timeoutMs?: number;
}

/** The settings to change with `setRoomSettings`; what is left out keeps its value. */
export interface RoomSettingsChange {
  /** Slow mode: the least seconds between two messages of one viewer, 0 (off) to 120. */
  slowModeS?: number;
  wordFilter?: boolean;
  /** The room's own block list, replaced whole ([] clears it). */
  blockedTerms?: string[];
  blockedTermsAction?: FilterAction;
}

/** Options of `timeoutUser` and `banUser`. */
export interface SanctionOptions {
  /** Kept in the moderation log and shown in the `userSanctioned` push. */
  reason?: string;
  /** Also delete the user's recent messages in the room (tombstones, a `messageDeleted` push). */
  clearMessages?: boolean;
}

let fallbackIds = 0;
function newClientMsgId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID ? c.randomUUID() : `${Date.now().toString(36)}-${(fallbackIds++).toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class LomiClient {
  private readonly events = new Emitter();
  private readonly connection: Connection;
  private readonly rooms: Rooms;
  private readonly outbox: Outbox;
  private readonly typingSentAt = new Map<string, number>();
  private readonly typingIntervalMs: number;
  private opened: Promise<void> | undefined;
  private openedOutcome: { resolve(): void; reject(err: Error): void } | undefined;

  readonly encoding: Encoding;
  /** The user this client acts as: the token's `sub` (undefined for a token that is not a JWT). */
  readonly userId: string | undefined;

  constructor(options: ConnectOptions) {
    this.encoding = options.encoding ?? Encoding.PROTO;
    this.userId = tokenClaims(options.token).userId;
    this.typingIntervalMs = options.typingIntervalMs ?? 2000;
    this.connection = new Connection(
      {
        urls: [options.url].flat(),
        token: options.token,
        refreshToken: options.refreshToken,
        reconnect: options.reconnect ?? true,
        reconnectWindowMs: options.reconnectWindowMs ?? 2000,
        reconnectMaxMs: options.reconnectMaxMs ?? 30_000,
        stableAfterMs: options.stableAfterMs ?? 10_000,
        requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
        pingIntervalMs: options.pingIntervalMs ?? 20_000,
        pingTimeoutMs: options.pingTimeoutMs ?? 10_000,
        encoding: this.encoding,
        tokenTransport: options.tokenTransport ?? 'subprotocol',
        connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
        WebSocket: options.WebSocket,
      },
      {
        state: (state, previous) => this.events.emit('state', state, previous),
        opened: (reconnect) => this.onOpened(reconnect),
        dropped: () => this.outbox.dropped(),
        retrying: (attempt, delayMs, code, reason) => this.events.emit('reconnecting', attempt, delayMs, code, reason),
        reply: (frame) => {
          if (frame.joined) this.rooms.onJoined(frame.joined);
        },
        push: (frame) => this.onPush(frame),
        error: (error) => this.events.emit('error', error),
        tokenRefreshed: (how) => this.events.emit('tokenRefreshed', how),
        closed: (code, reason) => this.onClosed(code, reason),
      },
    );
    this.rooms = new Rooms(this.connection, this.events, () => this.outbox.pump());
    this.outbox = new Outbox(
      this.connection,
      options.outboxLimit ?? 1000,
      () => this.connection.isOpen && !this.rooms.rejoining,
      options.sendTimeoutMs ?? 60_000,
      options.outboxStore,
    );
  }

  /** Creates a client and resolves once its first socket is open (after as many attempts as that takes). */
  static async connect(options: ConnectOptions): Promise<LomiClient> {
    const client = new LomiClient(options);
    await client.connect();
    return client;
  }

  /**
   * Starts connecting (once; later calls return the same promise). Resolves when the first socket
   * is open; rejects only if the client closes first (close(), a terminal refusal, reconnect off).
   * Sends made before it resolves wait in the outbox.
   */
  connect(): Promise<void> {
    if (!this.opened) {
      this.opened = new Promise((resolve, reject) => (this.openedOutcome = { resolve, reject }));
      void this.outbox
        .restore((send, outcome) => this.events.emit('restoredSend', { clientMsgId: send.clientMsgId, room: send.room, ...outcome }))
        .catch((err: Error) => this.events.emit('error', err));
      this.connection.start();
    }
    return this.opened;
  }

  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    return this.events.on(event, listener);
  }

  /** `connecting`, `connected`, `reconnecting` or `closed`; changes are `state` events. */
  get state(): ConnectionState {
    return this.connection.state;
  }

  /** False once the client closed for good. */
  get isOpen(): boolean {
    return this.connection.state !== 'closed';
  }

  /** Sends not yet acked or refused. */
  get pendingSends(): number {
    return this.outbox.size;
  }

  /** Joins a room. With sinceSeq, the reply carries every message after it (see `recovered`). */
  join(room: Room, options: { sinceSeq?: number; epoch?: string } = {}): Promise<lomi.chat.v1.IJoinReply> {
    return this.rooms.join(room, options);
  }

  async leave(room: Room): Promise<void> {
    await this.request({ leave: { room } });
    this.rooms.left(room);
  }

  /**
   * Sends a text message. Resolves with its ack (seq) once stored; rejects with the server's
   * refusal (RateLimitedError, TimedOutError, BannedError, ForbiddenError, TooLargeError, …),
   * SendTimeoutError or ClientClosedError. While disconnected it waits in the outbox and goes,
   * in order, after the reconnect. A string as `options` is the clientMsgId (see SendOptions).
   * Ends a `typing(room, true)`: the other member sees the message, not "typing".
   */
  send(room: Room, text: string, options: string | SendOptions = {}): Promise<Ack> {
    this.stopTyping(room);
    return this.enqueue(room, { text }, options);
  }

  /** Sends `count` of gift `giftId` (an id of the server's gift catalog), through the outbox like `send`. */
  sendGift(room: Room, giftId: string, count: number, options: string | SendOptions = {}): Promise<Ack> {
    return this.enqueue(room, { gift: { giftId, count } }, options);
  }

  private enqueue(room: Room, body: Pick<PersistedSend, 'text' | 'gift'>, options: string | SendOptions): Promise<Ack> {
    const { clientMsgId = newClientMsgId(), timeoutMs } = typeof options === 'string' ? { clientMsgId: options } : options;
    const closed = this.connection.closeInfo;
    if (this.connection.state === 'closed' && closed) return Promise.reject(new ClientClosedError(closed.code, closed.reason));
    return this.outbox.add({ room: { kind: room.kind, id: room.id }, clientMsgId, ...body }, timeoutMs);
  }

  /**
   * A page of a room's history in seq order: the oldest `limit` (1–200, default 50) after
   * `afterSeq` (default 0: from the start), or with `beforeSeq` the newest `limit` before it
   * (page back with the first seq of the previous page). `hasMore` says whether more remain.
   * Deleted messages come as tombstones (`deletedBy` set, no content).
   */
  async history(room: Room, page: { afterSeq?: number; beforeSeq?: number; limit?: number } = {}): Promise<lomi.chat.v1.IHistoryReply> {
    return (await this.request({ history: { room, ...page } })).history!;
  }

  /** Private rooms: I have read everything up to `seq` (receipts only move forward). */
  async markRead(room: Room, seq: number): Promise<void> {
    await this.request({ markRead: { room, seq } });
  }

  /** Private rooms: this device has received everything up to `seq`. */
  async markDelivered(room: Room, seq: number): Promise<void> {
    await this.request({ markDelivered: { room, seq } });
  }

  /** My private conversations, newest activity first; pass the reply's nextCursor for the next page. */
  async listConversations(page: { cursor?: string; limit?: number } = {}): Promise<lomi.chat.v1.IConversationList> {
    return (await this.request({ listConversations: page })).conversations!;
  }

  /** Live rooms, the broadcaster, moderators and staff: pins a stored message (by seq) or a new text, for `durationS` seconds. */
  async pin(room: Room, target: { seq: number } | { text: string }, durationS?: number): Promise<void> {
    const what = 'seq' in target ? { messageSeq: target.seq } : { text: target.text };
    await this.request({ pin: { room, ...what, durationS } });
  }

  async unpin(room: Room): Promise<void> {
    await this.request({ unpin: { room } });
  }

  /** Live rooms, the broadcaster and staff: makes `userId` a moderator of this stream, or of every stream of its broadcaster. */
  async grantModerator(room: Room, userId: string, scope: ModeratorScope = ModeratorScope.MODERATOR_SCOPE_STREAM): Promise<void> {
    await this.request({ grantModerator: { room, userId, scope } });
  }

  /** Live rooms, the broadcaster and staff: takes a moderator grant of that scope back. */
  async revokeModerator(room: Room, userId: string, scope: ModeratorScope = ModeratorScope.MODERATOR_SCOPE_STREAM): Promise<void> {
    await this.request({ revokeModerator: { room, userId, scope } });
  }

  /** Reports message `seq` of the room to the app's moderators, with an optional reason. */
  async reportMessage(room: Room, seq: number, reason = ''): Promise<void> {
    await this.request({ reportMessage: { room, seq, reason } });
  }

  /**
   * Live rooms, the broadcaster, moderators and staff: changes the room's settings and resolves
   * with all of them, the block list included. With no change, reads them.
   */
  async setRoomSettings(room: Room, change: RoomSettingsChange = {}): Promise<lomi.chat.v1.IRoomSettings> {
    const { blockedTerms, ...rest } = change;
    const reply = await this.request({ setRoomSettings: { room, ...rest, ...(blockedTerms && { blockedTerms: { terms: blockedTerms } }) } });
    return reply.roomSettings!.settings!;
  }

  /**
   * Deletes message `seq`: in live rooms the broadcaster, moderators and staff, in private rooms
   * the sender (own messages). Everyone in the room gets a `messageDeleted` event.
   */
  async deleteMessage(room: Room, seq: number, reason = ''): Promise<void> {
    await this.request({ deleteMessage: { room, seq, reason } });
  }

  /** Live rooms, the broadcaster, moderators and staff: the user's sends are refused (TimedOutError) for `durationS` seconds. */
  async timeoutUser(room: Room, userId: string, durationS: number, options: SanctionOptions = {}): Promise<void> {
    await this.request({ timeoutUser: { room, userId, durationS, ...options } });
  }

  /** As `timeoutUser`, until `unbanUser`: the user's sends and joins are refused (BannedError) and they leave the room. */
  async banUser(room: Room, userId: string, options: SanctionOptions = {}): Promise<void> {
    await this.request({ banUser: { room, userId, ...options } });
  }

  /** Lifts a ban or a timeout of this room. */
  async unbanUser(room: Room, userId: string): Promise<void> {
    await this.request({ unbanUser: { room, userId } });
  }

  /** Private rooms: their sends to me are refused and our conversation leaves my list, until `unblockUser`. */
  async blockUser(userId: string): Promise<void> {
    await this.request({ blockUser: { userId } });
  }

  async unblockUser(userId: string): Promise<void> {
    await this.request({ unblockUser: { userId } });
  }

  /**
   * Private rooms: tells the other member I am typing (or stopped). Call it on every keystroke:
   * `true` goes out at most once per typingIntervalMs, `false` only after a `true` (a `send`
   * sends it too).
   */
  async typing(room: Room, typing: boolean): Promise<void> {
    const key = roomKey(room);
    const now = Date.now();
    const last = this.typingSentAt.get(key);
    if (typing ? last !== undefined && now - last < this.typingIntervalMs : last === undefined) return;
    if (typing) this.typingSentAt.set(key, now);
    else this.typingSentAt.delete(key);
    await this.request({ typing: { room, typing } });
  }

  /** After a `typing(room, true)`: says it stopped, in passing (a failure only means the server forgets it a little later). */
  private stopTyping(room: Room): void {
    if (this.typingSentAt.has(roomKey(room))) this.typing(room, false).catch(() => undefined);
  }

  /** Round trip to the server; resolves with the server's clock (Unix ms). */
  async ping(): Promise<number> {
    return Number((await this.request({ ping: {} })).pong!.serverTimeMs);
  }

  /** The highest seq this client has seen in a room: pass it as sinceSeq when rejoining. */
  lastSeqOf(room: Room): number | undefined {
    return this.rooms.lastSeqOf(room);
  }

  /** Sends raw bytes or text, bypassing the encoder (for protocol tests and debugging tools). */
  sendRaw(data: string | Uint8Array): void {
    this.connection.sendRaw(data);
  }

  /** Closes for good: unsent messages reject with ClientClosedError. */
  close(code = 1000, reason = ''): Promise<void> {
    if (this.connection.state === 'closed') return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.on('close', () => resolve()));
    this.connection.close(code, reason);
    return closed;
  }

  /**
   * Sends any command and resolves with its reply; an error frame rejects with its LomiError
   * class, a closed or reconnecting connection with ClientClosedError / DisconnectedError.
   */
  request(command: Omit<ClientFrame, 'requestId'>): Promise<ServerFrame> {
    return this.connection.request(command);
  }

  private onOpened(reconnect: boolean): void {
    this.openedOutcome?.resolve();
    if (!reconnect) return this.outbox.pump();
    this.events.emit('reconnected');
    this.rooms.rejoinAll();
  }

  private onClosed(code: number, reason: string): void {
    const error = new ClientClosedError(code, reason);
    this.outbox.fail(error);
    this.openedOutcome?.reject(error);
    this.events.emit('close', code, reason);
  }

  private onPush(frame: ServerFrame): void {
    this.events.emit('push', frame);
    if (frame.message) this.rooms.deliver(frame.message);
    else if (frame.batch) {
      const fresh = batchMessages(frame.batch).filter((m) => this.rooms.deliver(m));
      if (fresh.length > 0) this.events.emit('batch', frame.batch.room!, fresh);
    } else if (frame.roomClosed) this.events.emit('roomClosed', frame.roomClosed);
    else if (frame.viewers) this.events.emit('viewers', frame.viewers);
    else if (frame.typing) this.events.emit('typing', frame.typing);
    else if (frame.receipt) this.events.emit('receipt', frame.receipt);
    else if (frame.pin) this.events.emit('pin', frame.pin);
    else if (frame.roomReset) this.rooms.onReset(frame.roomReset);
    else if (frame.tokenExpiring) this.onTokenExpiring(frame.tokenExpiring);
    else if (frame.roomSettings) this.events.emit('roomSettings', frame.roomSettings);
    else if (frame.messageDeleted) this.events.emit('messageDeleted', frame.messageDeleted);
    else if (frame.userSanctioned) this.onSanctioned(frame.userSanctioned);
    else if (frame.error) this.events.emit('error', fromErrorFrame(frame.error));
  }

  private onSanctioned(event: lomi.chat.v1.IUserSanctioned): void {
    this.events.emit('userSanctioned', event);
    // Banned myself: the server took my sockets out of the room, so it is not joined again.
    if (event.sanction === Sanction.SANCTION_BAN && event.userId === this.userId && event.room) {
      this.rooms.left(event.room);
      const reason = event.reason ? `banned from this room: ${event.reason}` : 'banned from this room';
      this.events.emit('roomLost', event.room, new BannedError(ErrorCode.ERROR_CODE_BANNED, reason));
    }
  }

  private onTokenExpiring(event: lomi.chat.v1.ITokenExpiring): void {
    this.events.emit('tokenExpiring', event);
    this.connection.refreshInBand().catch((err: Error) => this.events.emit('error', err));
  }
}
