// Lomi Chat client SDK for Node and browsers. Pass a WebSocket constructor in Node 20 (the `ws`
// package); browsers and Node 22+ use the global one. Both encodings of the protocol work.
import {
  batchMessages,
  decodeServerFrame,
  Encoding,
  encodeClientFrame,
  ErrorCode,
  lomi,
  ModeratorScope,
  roomKey,
  TOKEN_SUBPROTOCOL_PREFIX,
  type ChatMessage,
  type ClientFrame,
  type Room,
} from '@lomi/protocol';

export { Encoding, ErrorCode, RoomKind, MessageKind, CloseCode, Role, ModeratorScope } from '@lomi/protocol';
export type { ChatMessage, Room } from '@lomi/protocol';

export const WS_PATH = '/api/v1/ws/chat';

/** The subset of the WHATWG WebSocket this client uses (browsers, Node 22+, and `ws`). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: unknown) => WebSocketLike;

export interface ConnectOptions {
  /**
   * Base URL of a gateway, e.g. wss://chat.example.com (the path is added), or several: each
   * reconnect tries the next, so a client outlives any one gateway without a load balancer.
   */
  url: string | string[];
  token: string;
  /** Called before each reconnect for a fresh token (the one given may have expired). */
  refreshToken?: () => string | Promise<string>;
  /**
   * Reconnect after an unexpected close (default true): rooms are joined again with the last
   * seen seq, and the missed messages arrive as `message` events, in order, before live ones.
   * A rejoin refused with UNAVAILABLE, INTERNAL or RATE_LIMITED, or unanswered, is retried with
   * exponential backoff and full jitter (up to 10 s apart, 10 attempts); any other refusal
   * (FORBIDDEN, NOT_FOUND, ROOM_CLOSED, …) drops the room at once (`roomLost`).
   */
  reconnect?: boolean;
  /**
   * The first reconnect attempt waits a random time in [0, this) ms ("full jitter"), each
   * further one in a window twice as long, up to 10 s. Default 2000: a gateway that goes away
   * with 10,000 clients sees them come back spread over two seconds rather than in the same
   * instant (a draining gateway spreads its closes over a window of its own as well).
   */
  reconnectWindowMs?: number;
  encoding?: Encoding;
  /** Where the token travels: `header` needs a WebSocket that accepts headers (the `ws` package). */
  tokenTransport?: 'subprotocol' | 'query' | 'header';
  WebSocket?: WebSocketConstructor;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** An error frame from the server. */
export class LomiError extends Error {
  override name = 'LomiError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs = 0,
  ) {
    super(`${ErrorCode[code] ?? code}: ${message}`);
  }
}

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

export interface ClientEvents {
  /** A room message, in seq order per room; batches are unpacked. */
  message: (message: ChatMessage) => void;
  roomClosed: (event: lomi.chat.v1.IRoomClosed) => void;
  /** A live room's viewer count changed. */
  viewers: (event: lomi.chat.v1.IViewerCount) => void;
  /** The other member of a private room started or stopped typing. */
  typing: (event: lomi.chat.v1.ITypingEvent) => void;
  /** A member of a private room moved their read or delivery receipt. */
  receipt: (event: lomi.chat.v1.IReceiptEvent) => void;
  /** A live room's pin changed; without `pin`, it was removed or expired. */
  pin: (event: lomi.chat.v1.IPinUpdate) => void;
  /** A joined room's history was reset: see `reload`. Later messages continue after its startSeq. */
  reset: (event: RoomResetEvent) => void;
  /** A server error frame that answers no request (e.g. an undecodable frame). */
  error: (error: LomiError) => void;
  /** Every push as decoded, before its typed event: for pushes without one in this SDK version. */
  push: (frame: lomi.chat.v1.ServerFrame) => void;
  /** The connection dropped and a reconnect is scheduled in `delayMs`. */
  reconnecting: (attempt: number, delayMs: number, closeCode: number) => void;
  /**
   * The connection is back (a new socket is open). Its rooms are not joined again yet: each is
   * rejoined on its own right after, and reported by `rejoined` or `roomLost`.
   */
  reconnected: () => void;
  /** A room was joined again after a reconnect; `recovered` as in the join reply (false also fires `recoveryFailed`). */
  rejoined: (room: Room, recovered: boolean) => void;
  /** A room's rejoin failed with a passing error (`error`); it is tried again in `delayMs`. */
  rejoining: (room: Room, attempt: number, delayMs: number, error: Error) => void;
  /** A room was given up after a reconnect: refused for good, or still failing after every attempt. It is no longer joined. */
  roomLost: (room: Room, error: Error) => void;
  /** A room could not be recovered after a reconnect (history was reset or is too long): reload it with `history`. */
  recoveryFailed: (room: Room) => void;
  /** The connection closed for good (closed by the app, refused by the server, or reconnect off). */
  close: (code: number, reason: string) => void;
}

const RECONNECT_WINDOW_MS = 2000;
const RECONNECT_MAX_MS = 10_000;
/** A failed rejoin's first retry waits up to this long, doubling per attempt up to REJOIN_MAX_MS. */
const REJOIN_WINDOW_MS = 500;
const REJOIN_MAX_MS = 10_000;
const REJOIN_ATTEMPTS = 10;
/** Refusals that say "not now" rather than "no": a rejoin refused with one of them is tried again. */
const PASSING = new Set<ErrorCode>([ErrorCode.ERROR_CODE_UNAVAILABLE, ErrorCode.ERROR_CODE_INTERNAL, ErrorCode.ERROR_CODE_RATE_LIMITED]);

/** Exponential backoff with full jitter: a random wait in [0, window × 2^(attempt-1)), at most `max`. */
function backoff(attempt: number, windowMs: number, maxMs: number): number {
  return Math.random() * Math.min(maxMs, windowMs * 2 ** (attempt - 1));
}
/** WebSocket is OPEN. */
const OPEN = 1;

/** Opens one socket to `url` and resolves once it is open. */
function openSocket(options: ConnectOptions, url: string, token: string): Promise<WebSocketLike> {
  const encoding = options.encoding ?? Encoding.PROTO;
  const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WS) return Promise.reject(new Error('no WebSocket implementation: pass options.WebSocket (e.g. the `ws` package)'));
  const transport = options.tokenTransport ?? 'subprotocol';
  const target = new URL(WS_PATH, url);
  const protocols: string[] = [encoding];
  if (transport === 'subprotocol') protocols.push(TOKEN_SUBPROTOCOL_PREFIX + token);
  if (transport === 'query') target.searchParams.set('token', token);
  const socket =
    transport === 'header'
      ? new WS(target.toString(), protocols, { headers: { authorization: `Bearer ${token}` } })
      : new WS(target.toString(), protocols);
  socket.binaryType = 'arraybuffer';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('connect timed out'));
    }, options.connectTimeoutMs ?? 10_000);
    socket.onopen = () => {
      clearTimeout(timer);
      socket.onerror = null;
      resolve(socket);
    };
    socket.onerror = (ev) => {
      clearTimeout(timer);
      const message = (ev as { message?: string; error?: Error }).message ?? (ev as { error?: Error }).error?.message;
      reject(new Error(`connect failed: ${message ?? 'WebSocket error'}`));
    };
  });
}

type Listener<K extends keyof ClientEvents> = ClientEvents[K];

/** A room the app joined: rejoined after every reconnect until the app leaves it or it is lost. */
interface JoinedRoom {
  room: Room;
  epoch: string;
  /** A rejoin's reply is awaited: its recovered messages are delivered as events. */
  rejoining: boolean;
}

interface Pending {
  resolve(frame: lomi.chat.v1.ServerFrame): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

function toLomiError(e: lomi.chat.v1.IError): LomiError {
  return new LomiError(e.code ?? ErrorCode.ERROR_CODE_UNSPECIFIED, e.message ?? '', e.retryAfterMs ?? 0);
}

let fallbackIds = 0;
function newClientMsgId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID ? c.randomUUID() : `${Date.now().toString(36)}-${(fallbackIds++).toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class LomiClient {
  private nextRequestId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: { [K in keyof ClientEvents]: Set<Listener<K>> } = {
    message: new Set(),
    roomClosed: new Set(),
    viewers: new Set(),
    typing: new Set(),
    receipt: new Set(),
    pin: new Set(),
    reset: new Set(),
    error: new Set(),
    push: new Set(),
    reconnecting: new Set(),
    reconnected: new Set(),
    rejoined: new Set(),
    rejoining: new Set(),
    roomLost: new Set(),
    recoveryFailed: new Set(),
    close: new Set(),
  };
  /** Joined rooms with the epoch of their history, to join again after a reconnect. */
  private readonly joined = new Map<string, JoinedRoom>();
  private closedByApp = false;
  private reconnecting = false;
  private urlIndex = 0;
  /** Highest seq seen per room, so a message delivered twice (reply and push) is shown once. */
  private readonly lastSeq = new Map<string, number>();
  private closedInfo: { code: number; reason: string } | undefined;

  readonly encoding: Encoding;
  private readonly requestTimeoutMs: number;

  private constructor(
    private socket: WebSocketLike,
    private readonly options: ConnectOptions,
  ) {
    this.encoding = options.encoding ?? Encoding.PROTO;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.attach(socket);
  }

  static async connect(options: ConnectOptions): Promise<LomiClient> {
    const urls = [options.url].flat();
    return new LomiClient(await openSocket(options, urls[0]!, options.token), options);
  }

  private attach(socket: WebSocketLike): void {
    socket.onmessage = (ev) => this.onFrame(ev.data);
    socket.onclose = (ev) => this.onClose(ev.code, ev.reason);
  }

  private onClose(code: number, reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`connection closed (${code} ${reason})`));
      this.pending.delete(id);
    }
    // 4400–4499: the server refuses this client as it is (bad token, banned); retrying is futile.
    const terminal = this.closedByApp || this.options.reconnect === false || (code >= 4400 && code <= 4499);
    // A socket lost while a reconnect is under way is that loop's to retry.
    if (!terminal && this.reconnecting) return;
    if (!terminal) return void this.reconnect(code);
    this.closedInfo = { code, reason };
    for (const l of this.listeners.close) l(code, reason);
  }

  private async reconnect(closeCode: number): Promise<void> {
    const urls = [this.options.url].flat();
    this.reconnecting = true;
    for (let attempt = 1; !this.closedByApp; attempt++) {
      // Full jitter, so a gateway's clients do not all come back at once.
      const delay = backoff(attempt, this.options.reconnectWindowMs ?? RECONNECT_WINDOW_MS, RECONNECT_MAX_MS);
      for (const l of this.listeners.reconnecting) l(attempt, delay, closeCode);
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.closedByApp) break;
      this.urlIndex = (this.urlIndex + 1) % urls.length;
      try {
        const token = this.options.refreshToken ? await this.options.refreshToken() : this.options.token;
        const socket = await openSocket(this.options, urls[this.urlIndex]!, token);
        if (this.closedByApp) {
          socket.close(1000);
          break;
        }
        this.socket = socket;
        this.attach(socket);
        this.reconnecting = false;
        for (const l of this.listeners.reconnected) l();
        for (const state of [...this.joined.values()]) void this.rejoin(state, socket);
        return;
      } catch {
        // The next attempt tries the next URL after a longer wait.
      }
    }
    this.reconnecting = false;
    this.closedInfo = { code: 1000, reason: 'closed while reconnecting' };
    for (const l of this.listeners.close) l(1000, 'closed while reconnecting');
  }

  /**
   * Joins one room again on `socket` with the last seen seq, retrying a passing failure with
   * backoff. It stops when the socket is replaced (the next reconnect rejoins) or the app left
   * the room meanwhile.
   */
  private async rejoin(state: JoinedRoom, socket: WebSocketLike): Promise<void> {
    const key = roomKey(state.room);
    for (let attempt = 1; this.socket === socket && this.joined.get(key) === state; attempt++) {
      state.rejoining = true;
      try {
        const reply = await this.request({ join: { room: state.room, sinceSeq: this.lastSeq.get(key), epoch: state.epoch } });
        const recovered = Boolean(reply.joined!.recovered);
        for (const l of this.listeners.rejoined) l(state.room, recovered);
        if (!recovered) for (const l of this.listeners.recoveryFailed) l(state.room);
        return;
      } catch (err) {
        if (this.socket !== socket || socket.readyState !== OPEN) return;
        const error = err as Error;
        // Unanswered (timed out) or "not now": try again; anything else is the room refusing us.
        const passing = !(error instanceof LomiError) || PASSING.has(error.code);
        if (!passing || attempt >= REJOIN_ATTEMPTS) {
          this.joined.delete(key);
          if (error instanceof LomiError) for (const l of this.listeners.error) l(error);
          for (const l of this.listeners.roomLost) l(state.room, error);
          return;
        }
        const retryAfterMs = error instanceof LomiError ? error.retryAfterMs : 0;
        const delay = Math.max(retryAfterMs, backoff(attempt, REJOIN_WINDOW_MS, REJOIN_MAX_MS));
        for (const l of this.listeners.rejoining) l(state.room, attempt, delay, error);
        await new Promise((resolve) => setTimeout(resolve, delay));
      } finally {
        state.rejoining = false;
      }
    }
  }

  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  get isOpen(): boolean {
    return this.closedInfo === undefined;
  }

  /** Joins a room. With sinceSeq, the reply carries every message after it (see `recovered`). */
  async join(room: Room, options: { sinceSeq?: number; epoch?: string } = {}): Promise<lomi.chat.v1.IJoinReply> {
    const reply = await this.request({ join: { room, sinceSeq: options.sinceSeq, epoch: options.epoch ?? '' } });
    const joined = reply.joined!;
    this.joined.set(roomKey(room), { room: { kind: room.kind, id: room.id }, epoch: joined.epoch ?? '', rejoining: false });
    return joined;
  }

  async leave(room: Room): Promise<void> {
    await this.request({ leave: { room } });
    this.lastSeq.delete(roomKey(room));
    this.joined.delete(roomKey(room));
  }

  /** Sends a text message; pass the same clientMsgId when retrying so it is stored once. */
  async send(room: Room, text: string, clientMsgId: string = newClientMsgId()): Promise<lomi.chat.v1.ISendAck> {
    return (await this.request({ send: { room, clientMsgId, text } })).ack!;
  }

  async sendGift(room: Room, giftId: string, count: number, clientMsgId: string = newClientMsgId()): Promise<lomi.chat.v1.ISendAck> {
    return (await this.request({ send: { room, clientMsgId, gift: { giftId, count } } })).ack!;
  }

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

  /** Private rooms: tells the other member I am typing (or stopped). */
  async typing(room: Room, typing: boolean): Promise<void> {
    await this.request({ typing: { room, typing } });
  }

  async ping(): Promise<number> {
    return Number((await this.request({ ping: {} })).pong!.serverTimeMs);
  }

  /** The highest seq this client has seen in a room: pass it as sinceSeq when rejoining. */
  lastSeqOf(room: Room): number | undefined {
    return this.lastSeq.get(roomKey(room));
  }

  /** Sends raw bytes or text, bypassing the encoder (for protocol tests and debugging tools). */
  sendRaw(data: string | Uint8Array): void {
    this.socket.send(data);
  }

  close(code = 1000, reason = ''): Promise<void> {
    if (this.closedInfo) return Promise.resolve();
    this.closedByApp = true;
    return new Promise((resolve) => {
      this.on('close', () => resolve());
      if (this.socket.readyState === OPEN) this.socket.close(code, reason);
    });
  }

  /** Sends a command and resolves with its reply; error frames reject with LomiError. */
  request(command: Omit<ClientFrame, 'requestId'>): Promise<lomi.chat.v1.ServerFrame> {
    if (this.closedInfo) return Promise.reject(new Error('connection is closed'));
    if (this.socket.readyState !== OPEN) return Promise.reject(new Error('disconnected; reconnecting'));
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`request ${requestId} timed out`));
      }, this.requestTimeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      this.socket.send(encodeClientFrame({ ...command, requestId }, this.encoding));
    });
  }

  private onFrame(data: unknown): void {
    let frame: lomi.chat.v1.ServerFrame;
    try {
      frame = decodeServerFrame(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer), this.encoding);
    } catch (err) {
      for (const l of this.listeners.error) l(new LomiError(ErrorCode.ERROR_CODE_BAD_REQUEST, (err as Error).message));
      return;
    }
    const pending = frame.requestId ? this.pending.get(frame.requestId) : undefined;
    if (pending) {
      this.pending.delete(frame.requestId);
      clearTimeout(pending.timer);
      // Set here, not after the caller's await: pushes in the same TCP read are handled before
      // any continuation runs, and the ones the reply already carried must be dropped.
      if (frame.joined) this.onJoined(frame.joined);
      if (frame.error) pending.reject(toLomiError(frame.error));
      else pending.resolve(frame);
      return;
    }
    for (const l of this.listeners.push) l(frame);
    if (frame.message) this.deliver(frame.message);
    else if (frame.batch) for (const m of batchMessages(frame.batch)) this.deliver(m);
    else if (frame.roomClosed) for (const l of this.listeners.roomClosed) l(frame.roomClosed);
    else if (frame.viewers) for (const l of this.listeners.viewers) l(frame.viewers);
    else if (frame.typing) for (const l of this.listeners.typing) l(frame.typing);
    else if (frame.receipt) for (const l of this.listeners.receipt) l(frame.receipt);
    else if (frame.pin) for (const l of this.listeners.pin) l(frame.pin);
    else if (frame.roomReset) this.onReset(frame.roomReset);
    else if (frame.error) for (const l of this.listeners.error) l(toLomiError(frame.error));
  }

  private onJoined(joined: lomi.chat.v1.IJoinReply): void {
    const key = roomKey(joined.room ?? {});
    const state = this.joined.get(key);
    // After a reconnect the app did not ask for this join: what it missed arrives as events.
    if (state?.rejoining) {
      if (joined.epoch) state.epoch = joined.epoch;
      if (joined.recovered) (joined.messages ?? []).forEach((m) => this.deliver(m));
    }
    this.lastSeq.set(key, Math.max(this.lastSeq.get(key) ?? 0, Number(joined.topSeq)));
  }

  private onReset(reset: lomi.chat.v1.IRoomReset): void {
    const room = reset.room ?? {};
    const key = roomKey(room);
    const state = this.joined.get(key);
    if (!state) return;
    const last = this.lastSeq.get(key) ?? 0;
    const startSeq = Number(reset.startSeq);
    // Already past it: joined (or recovered) into the new epoch after the reset happened.
    if (last > startSeq) return;
    const lastSeq = Number(reset.lastSeq);
    state.epoch = reset.epoch ?? '';
    this.lastSeq.set(key, startSeq);
    const event: RoomResetEvent = { room: state.room, epoch: state.epoch, previousEpoch: reset.previousEpoch ?? '', lastSeq, startSeq, reload: last > lastSeq };
    for (const l of this.listeners.reset) l(event);
  }

  private deliver(message: lomi.chat.v1.IChatMessage): void {
    const key = roomKey(message.room ?? {});
    const seq = Number(message.seq);
    if (seq <= (this.lastSeq.get(key) ?? 0)) return;
    this.lastSeq.set(key, seq);
    for (const l of this.listeners.message) l(message);
  }
}

export { roomKey };
