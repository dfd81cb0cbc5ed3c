// A bare WebSocket to a gateway that sends whatever bytes or text it is given (malformed
// frames, hand-written JSON with escapes the SDK would never produce) and records what comes
// back, for input and fuzz experiments.
import WebSocket from 'ws';
import { decodeServerFrame, Encoding, WS_PATH, type lomi } from '@lomi/protocol';

const REPLY_TIMEOUT_MS = 10_000;

export class RawSocket {
  /** Every decodable frame received, in order. */
  readonly frames: lomi.chat.v1.ServerFrame[] = [];
  undecodable = 0;
  /** The text each frame of `frames` arrived as (JSON encoding), exactly as the server wrote it. */
  private readonly texts = new WeakMap<lomi.chat.v1.ServerFrame, string>();
  /** Set once the socket closed: the close code and reason. */
  closed: { code: number; reason: string } | undefined;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly ws: WebSocket,
    readonly encoding: Encoding,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      try {
        const text = isBinary ? undefined : data.toString('utf8');
        const frame = decodeServerFrame(text ?? new Uint8Array(data), encoding);
        if (text !== undefined) this.texts.set(frame, text);
        this.frames.push(frame);
      } catch {
        this.undecodable += 1;
      }
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => undefined);
  }

  /** Opens a socket to `baseUrl` (ws://host:port) with `token`; rejects with the HTTP status when the upgrade is refused. */
  static open(baseUrl: string, token: string, encoding: Encoding = Encoding.PROTO): Promise<RawSocket> {
    const ws = new WebSocket(`${baseUrl}${WS_PATH}`, [encoding], { headers: { authorization: `Bearer ${token}` } });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawSocket(ws, encoding)));
      ws.once('unexpected-response', (_req, res) => reject(new UpgradeRefusedError(res.statusCode ?? 0)));
      ws.once('error', reject);
    });
  }

  /** Sends bytes as a binary frame, or text (a string, or bytes that may not even be UTF-8) as a text frame. */
  send(data: string | Uint8Array, binary = typeof data !== 'string'): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data, { binary });
  }

  /**
   * Sends a JSON text frame built from `frame` (strings with lone surrogates go out as `\ud800`
   * escapes) and resolves with the reply to its request_id, or undefined if the socket closed.
   */
  async request(frame: { requestId: number } & Record<string, unknown>): Promise<lomi.chat.v1.ServerFrame | undefined> {
    this.send(JSON.stringify(frame), false);
    return this.reply(frame.requestId);
  }

  /** The reply to `requestId`, or undefined if the socket closed first; rejects after a timeout. */
  reply(requestId: number, timeoutMs = REPLY_TIMEOUT_MS): Promise<lomi.chat.v1.ServerFrame | undefined> {
    return this.next((f) => f.requestId === requestId, timeoutMs, `reply to request ${requestId}`);
  }

  /**
   * The first frame received (before or after this call) that `matches`, or undefined if the
   * socket closed first; rejects after a timeout naming `what`.
   */
  next(matches: (frame: lomi.chat.v1.ServerFrame) => boolean, timeoutMs = REPLY_TIMEOUT_MS, what = 'matching frame'): Promise<lomi.chat.v1.ServerFrame | undefined> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.frames.find(matches);
        if (!found && !this.closed) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** The text `frame` (one of `frames`) arrived as, when it came as a text frame. */
  textOf(frame: lomi.chat.v1.ServerFrame): string | undefined {
    return this.texts.get(frame);
  }

  close(): void {
    this.ws.terminate();
  }

  private wake(): void {
    for (const wake of this.waiters) wake();
  }
}

export class UpgradeRefusedError extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with HTTP ${status}`);
    this.name = 'UpgradeRefusedError';
  }
}
