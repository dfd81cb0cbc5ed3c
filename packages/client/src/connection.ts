// One logical connection over a series of sockets: connects (the first time too) and reconnects
// with backoff across the gateway URLs, keeps the token fresh, watches liveness with a heartbeat,
// and matches replies to requests. What a socket carries is the client's business (hooks).
import { Backoff } from './backoff';
import type { ConnectionState } from './events';
import { ClientClosedError, DisconnectedError, fromErrorFrame, RequestTimeoutError } from './errors';
import { Heartbeat } from './heartbeat';
import { CloseCode, decodeServerFrame, encodeClientFrame, isReconnectCode, type ClientFrame, type Encoding, type ServerFrame } from './protocol';
import { tokenClaims } from './token';
import { ConnectError, OPEN, openSocket, type OpenedSocket, type SocketOptions, type WebSocketLike } from './transport';

export interface ConnectionSettings extends SocketOptions {
  urls: string[];
  token: string;
  refreshToken?: () => string | Promise<string>;
  reconnect: boolean;
  reconnectWindowMs: number;
  reconnectMaxMs: number;
  /** A connection that stayed up this long resets the backoff to its first window. */
  stableAfterMs: number;
  requestTimeoutMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

export interface ConnectionHooks {
  state(state: ConnectionState, previous: ConnectionState): void;
  /** A socket is open; `reconnect` is false for the very first one. */
  opened(reconnect: boolean): void;
  /** The socket is gone (a new one may follow): requests on it were rejected. */
  dropped(): void;
  /** Waiting `delayMs` before the next attempt, after a close with `code` (1006 when no socket opened). */
  retrying(attempt: number, delayMs: number, code: number, reason: string): void;
  /** A reply, before its request resolves (so state it carries is applied before any later push). */
  reply(frame: ServerFrame): void;
  push(frame: ServerFrame): void;
  /** An undecodable frame or a failed background step. */
  error(error: Error): void;
  tokenRefreshed(how: 'in-band' | 'reconnect'): void;
  /** Closed for good. */
  closed(code: number, reason: string): void;
}

interface Pending {
  resolve(frame: ServerFrame): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** 4400–4499: refused as it is (token, ban): reconnecting with the same credentials is futile. */
const isTerminalCode = (code: number) => code >= 4400 && code <= 4499;
/** Refresh a token this close to its expiry before connecting with it. */
const EXPIRY_MARGIN_MS = 10_000;

export class Connection {
  private socket: WebSocketLike | undefined;
  private nextRequestId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly backoff: Backoff;
  private heartbeat: Heartbeat | undefined;
  private urlIndex = 0;
  private token: string;
  private current: ConnectionState = 'connecting';
  private stopped: { code: number; reason: string } | undefined;
  private wake: (() => void) | undefined;
  /** Ends the socket now, without waiting for a close handshake a dead peer never answers. */
  private abandon: ((code: number, reason: string) => void) | undefined;
  /** Ends the wait for the socket's close (it was closed by us). */
  private ended: ((code: number, reason: string) => void) | undefined;
  private started = false;
  /** Increments with every socket: work tied to one socket stops when it changes. */
  generation = 0;

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly hooks: ConnectionHooks,
  ) {
    this.token = settings.token;
    this.backoff = new Backoff({ windowMs: settings.reconnectWindowMs, maxMs: settings.reconnectMaxMs });
  }

  get state(): ConnectionState {
    return this.current;
  }

  get encoding(): Encoding {
    return this.settings.encoding;
  }

  get isOpen(): boolean {
    return this.current === 'connected' && this.socket?.readyState === OPEN;
  }

  get closeInfo(): { code: number; reason: string } | undefined {
    return this.stopped;
  }

  /** Starts the connect loop once; it runs until close() or a terminal close. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.run();
  }

  /** Closes for good: pending requests reject, no reconnect follows. */
  close(code = 1000, reason = ''): void {
    if (this.stopped) return;
    this.stopped = { code, reason };
    this.wake?.();
    if (this.socket) {
      const socket = this.socket;
      if (socket.readyState === OPEN) socket.close(code, reason);
      // Final at once: a dead peer would never answer the close frame.
      this.ended?.(code, reason);
    } else this.finish(code, reason);
  }

  /** Sends a command and resolves with its reply; an error frame rejects with its LomiError class. */
  request(command: Omit<ClientFrame, 'requestId'>, timeoutMs = this.settings.requestTimeoutMs): Promise<ServerFrame> {
    if (this.stopped) return Promise.reject(new ClientClosedError(this.stopped.code, this.stopped.reason));
    const socket = this.socket;
    if (!socket || this.current !== 'connected' || socket.readyState !== OPEN) return Promise.reject(new DisconnectedError());
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new RequestTimeoutError(`request ${requestId} got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      socket.send(encodeClientFrame({ ...command, requestId }, this.settings.encoding));
    });
  }

  /** Sends bytes or text as they are (protocol tests, debugging tools). */
  sendRaw(data: string | Uint8Array): void {
    if (!this.socket) throw new DisconnectedError();
    this.socket.send(data);
  }

  /** Pings now instead of at the next heartbeat (a request went unanswered: is the socket dead?). */
  checkAlive(): void {
    const generation = this.generation;
    this.request({ ping: {} }, this.settings.pingTimeoutMs).catch((err) => {
      if (err instanceof RequestTimeoutError && generation === this.generation) this.abandon?.(1006, `no pong within ${this.settings.pingTimeoutMs} ms`);
    });
  }

  /** On a TokenExpiring push: a new token from the app, sent in band so the socket lives on. */
  async refreshInBand(): Promise<void> {
    if (!this.settings.refreshToken) return;
    const token = await this.settings.refreshToken();
    // Used for the next socket whatever the server says: it is the newest token the app gave.
    this.token = token;
    await this.request({ refresh: { token } });
    this.hooks.tokenRefreshed('in-band');
  }

  private setState(next: ConnectionState): void {
    if (next === this.current) return;
    const previous = this.current;
    this.current = next;
    this.hooks.state(next, previous);
  }

  private finish(code: number, reason: string): void {
    if (this.current === 'closed') return;
    this.stopped ??= { code, reason };
    this.setState('closed');
    this.hooks.closed(code, reason);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async freshToken(authFailed: boolean): Promise<string> {
    const expiresAt = tokenClaims(this.token).expiresAtMs;
    const expiring = expiresAt !== undefined && expiresAt - Date.now() < EXPIRY_MARGIN_MS;
    if (this.settings.refreshToken && (authFailed || expiring)) {
      this.token = await this.settings.refreshToken();
      if (authFailed) this.hooks.tokenRefreshed('reconnect');
    }
    return this.token;
  }

  private async run(): Promise<void> {
    const urls = this.settings.urls;
    let connectedOnce = false;
    let authFailed = false;
    let lastClose = { code: 1006, reason: 'not connected yet' };
    while (!this.stopped) {
      let opened: OpenedSocket;
      try {
        const token = await this.freshToken(authFailed);
        if (this.stopped) break;
        opened = await openSocket(urls[this.urlIndex % urls.length]!, token, this.settings);
      } catch (err) {
        if (this.stopped) break;
        const status = err instanceof ConnectError ? err.status : undefined;
        // 401: the token is refused (a new one may do); 403: banned, retrying is futile.
        if ((status === 401 && !this.settings.refreshToken) || status === 403) {
          this.finish(status === 401 ? CloseCode.AUTH_FAILED : CloseCode.BANNED, (err as Error).message);
          return;
        }
        authFailed = status === 401;
        if (!(err instanceof ConnectError)) this.hooks.error(err as Error);
        if (!this.settings.reconnect) return this.finish(lastClose.code, (err as Error).message);
        this.urlIndex += 1;
        await this.wait({ code: lastClose.code, reason: (err as Error).message });
        continue;
      }
      if (this.stopped) {
        opened.socket.close(1000);
        break;
      }
      authFailed = false;
      const closed = this.attach(opened.socket);
      this.setState('connected');
      this.hooks.opened(connectedOnce);
      connectedOnce = true;
      // After `opened`: a token_expiring among them is answered on a socket the client knows is up.
      for (const data of opened.early) this.onData(data);
      const stable = setTimeout(() => this.backoff.reset(), this.settings.stableAfterMs);
      lastClose = await closed;
      clearTimeout(stable);
      this.detach(lastClose);
      if (this.stopped) break;
      const { code, reason } = lastClose;
      if (isTerminalCode(code) && !(code === CloseCode.AUTH_FAILED && this.settings.refreshToken)) return this.finish(code, reason);
      if (!this.settings.reconnect) return this.finish(code, reason);
      authFailed = code === CloseCode.AUTH_FAILED;
      // The server asked us to move (a drain, a slow read): not a failure of ours, so the wait
      // starts over at the first window, and the next URL is another gateway.
      if (isReconnectCode(code)) this.backoff.reset();
      this.urlIndex += 1;
      await this.wait(lastClose);
    }
    this.finish(this.stopped?.code ?? lastClose.code, this.stopped?.reason ?? lastClose.reason);
  }

  private async wait(close: { code: number; reason: string }): Promise<void> {
    if (this.current === 'connected') this.setState('reconnecting');
    const { attempt, delayMs } = this.backoff.next();
    this.hooks.retrying(attempt, delayMs, close.code, close.reason);
    await this.sleep(delayMs);
  }

  /** Wires a new socket; resolves with its close (real, or abandoned as dead). */
  private attach(socket: WebSocketLike): Promise<{ code: number; reason: string }> {
    this.socket = socket;
    this.generation += 1;
    return new Promise((resolve) => {
      let done = false;
      const end = (code: number, reason: string) => {
        if (done) return;
        done = true;
        socket.onmessage = socket.onclose = socket.onerror = null;
        resolve({ code, reason });
      };
      this.ended = end;
      this.abandon = (code, reason) => {
        end(code, reason);
        // `ws` waits up to 30 s for a dead peer's close frame unless terminated.
        const terminate = (socket as { terminate?: () => void }).terminate;
        if (terminate) terminate.call(socket);
        else if (socket.readyState === OPEN) socket.close(code >= 3000 && code <= 4999 ? code : 1000, reason);
      };
      socket.onmessage = (ev) => this.onData(ev.data);
      socket.onclose = (ev) => end(ev.code, ev.reason);
      socket.onerror = () => undefined;
      this.heartbeat = new Heartbeat(
        { intervalMs: this.settings.pingIntervalMs, timeoutMs: this.settings.pingTimeoutMs },
        (timeoutMs) => this.request({ ping: {} }, timeoutMs),
        (reason) => this.abandon?.(1006, reason),
      );
      this.heartbeat.start();
    });
  }

  private detach(close: { code: number; reason: string }): void {
    this.heartbeat?.stop();
    this.heartbeat = undefined;
    this.socket = undefined;
    this.abandon = this.ended = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new DisconnectedError(`connection closed (${close.code}${close.reason ? ` ${close.reason}` : ''})`));
    }
    this.hooks.dropped();
  }

  private onData(data: unknown): void {
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(data as string | ArrayBuffer, this.settings.encoding);
    } catch (err) {
      this.hooks.error(err as Error);
      return;
    }
    const pending = frame.requestId ? this.pending.get(frame.requestId) : undefined;
    if (!pending) return this.hooks.push(frame);
    this.pending.delete(frame.requestId);
    clearTimeout(pending.timer);
    this.hooks.reply(frame);
    if (frame.error) pending.reject(fromErrorFrame(frame.error));
    else pending.resolve(frame);
  }
}
