// Opening one WebSocket to one gateway: the WebSocket implementation to use, where the token
// travels, and what a failed upgrade means.
import { Encoding, TOKEN_SUBPROTOCOL_PREFIX, WS_PATH } from './protocol';

/** The subset of the WHATWG WebSocket this client uses (browsers, Node 22+, and the `ws` package). */
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

/** WebSocket.OPEN */
export const OPEN = 1;

export type TokenTransport = 'subprotocol' | 'query' | 'header';

export interface SocketOptions {
  encoding: Encoding;
  tokenTransport: TokenTransport;
  connectTimeoutMs: number;
  WebSocket?: WebSocketConstructor;
}

/**
 * A connect attempt that failed. `status` is the HTTP status of a refused upgrade when the
 * WebSocket implementation tells it (the `ws` package does; browsers never do).
 */
export class ConnectError extends Error {
  override name = 'ConnectError';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// Set by the Node entry point: the `ws` package, loaded only when there is no global WebSocket
// (Node 20), so a browser bundle never contains it.
let fallback: (() => Promise<WebSocketConstructor>) | undefined;
export function setWebSocketFallback(load: () => Promise<WebSocketConstructor>): void {
  fallback = load;
}

async function webSocketClass(options: SocketOptions): Promise<WebSocketConstructor> {
  const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ?? (await fallback?.());
  if (!WS) throw new ConnectError('no WebSocket implementation: pass options.WebSocket (e.g. the `ws` package)');
  return WS;
}

/** An open socket and the messages that arrived before its owner took it over. */
export interface OpenedSocket {
  socket: WebSocketLike;
  /**
   * A frame the server sends right after the upgrade (token_expiring for a short-lived token)
   * can arrive with the upgrade answer and be dispatched before the caller's await resumes:
   * kept here, in order, for the caller to read before any later frame.
   */
  early: unknown[];
}

/** Opens one socket to the gateway at `url` (its base URL; the path is added) and resolves once it is open. */
export async function openSocket(url: string, token: string, options: SocketOptions): Promise<OpenedSocket> {
  const WS = await webSocketClass(options);
  const target = new URL(WS_PATH, url);
  const protocols: string[] = [options.encoding];
  if (options.tokenTransport === 'subprotocol') protocols.push(TOKEN_SUBPROTOCOL_PREFIX + token);
  if (options.tokenTransport === 'query') target.searchParams.set('token', token);
  const socket =
    options.tokenTransport === 'header' ? new WS(target.toString(), protocols, { headers: { authorization: `Bearer ${token}` } }) : new WS(target.toString(), protocols);
  socket.binaryType = 'arraybuffer';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.onopen = socket.onerror = socket.onclose = null;
      socket.close();
      reject(new ConnectError(`connect to ${url} timed out after ${options.connectTimeoutMs} ms`));
    }, options.connectTimeoutMs);
    socket.onopen = () => {
      clearTimeout(timer);
      socket.onerror = null;
      const early: unknown[] = [];
      socket.onmessage = (ev) => early.push(ev.data);
      resolve({ socket, early });
    };
    socket.onerror = (ev) => {
      clearTimeout(timer);
      const error = (ev as { error?: Error }).error;
      const message = (ev as { message?: string }).message ?? error?.message ?? 'WebSocket error';
      const status = /Unexpected server response: (\d{3})/.exec(message)?.[1];
      reject(new ConnectError(`connect to ${url} failed: ${message}`, status ? Number(status) : undefined, { cause: error }));
    };
  });
}
