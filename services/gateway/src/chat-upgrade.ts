// Who may open a chat socket: the checks of a WebSocket upgrade request, each refusal answered
// with its HTTP status and counted, and for an admitted client its Connection.
import { randomUUID } from 'node:crypto';
import type { Logger } from '@lomi/service-runtime';
import { Encoding, ENCODINGS, TOKEN_SUBPROTOCOL_PREFIX } from '@lomi/protocol';
import { AuthError, extractToken, type AuthenticatedUser, type Authenticator } from './auth';
import type { GatewayConfig } from './config';
import type { Connection } from './connection';
import type { OriginPolicy } from './cors';
import { clientAddress, type ConnectionLimits, type Refusal } from './limits';
import type { GatewayMetrics } from './metrics';
import type { PlatformBans } from './platform-bans';
import type { WebSocketBehavior } from './uws';

export interface ChatUpgradeDeps {
  config: Pick<GatewayConfig, 'TRUSTED_PROXY_HEADER'>;
  metrics: GatewayMetrics;
  log: Logger;
  origins: OriginPolicy;
  limits: ConnectionLimits;
  authenticate: Authenticator;
  bans: Pick<PlatformBans, 'isBanned'>;
  /** The gateway is draining: no new sockets. */
  stopping(): boolean;
}

/** Picks the encoding from the client's offered subprotocols; the default is binary protobuf. */
function chooseEncoding(offered: string[]): Encoding | undefined {
  const named = offered.filter((p) => !p.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  if (named.length === 0) return Encoding.PROTO;
  return ENCODINGS.find((e) => named.includes(e));
}

export function chatUpgrade(deps: ChatUpgradeDeps): NonNullable<WebSocketBehavior<Connection>['upgrade']> {
  const { config, metrics, log, origins, limits, bans } = deps;
  return (res, req, context) => {
    const key = req.getHeader('sec-websocket-key');
    const extensions = req.getHeader('sec-websocket-extensions');
    const offered = req
      .getHeader('sec-websocket-protocol')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const token = extractToken({ authorization: req.getHeader('authorization'), queryToken: req.getQuery('token'), subprotocols: offered });
    // Everything below answers before this callback returns, while uWS has the socket corked and
    // tracks the upgrade itself. Upgrading later, from a promise, is broken in this uWS build:
    // inside res.cork, cork() then reads the HTTP response state from memory the upgrade has just
    // reallocated in place for the WebSocket, and a stray "connection: close" bit there shuts the
    // new socket (1006 right after open; uNetworking/uWebSockets#1929). Without res.cork, it warns
    // on every upgrade and, for a "Connection: close" request, opens a WebSocket on a socket it
    // has already closed, which never gets a close event.
    const ip = clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString(), config.TRUSTED_PROXY_HEADER ? req.getHeader(config.TRUSTED_PROXY_HEADER) : '');
    const refuse = (status: string, message: string, outcome: string, retryAfterS?: number) => {
      metrics.upgrades.inc({ outcome });
      // The access log of a refusal: what the client was told, never its token.
      log.info({ status: Number.parseInt(status, 10), reason: message, outcome, clientAddress: ip }, 'upgrade refused');
      res.writeStatus(status).writeHeader('content-type', 'text/plain');
      if (retryAfterS) res.writeHeader('retry-after', String(retryAfterS));
      res.end(message);
    };
    const tooMany = (r: Refusal) => refuse('429 Too Many Requests', r.message, 'limited', r.retryAfterS);
    if (deps.stopping()) return refuse('503 Service Unavailable', 'gateway shutting down', 'shutting_down');
    // A web page of another site must not open a socket with the user's token (CORS_ORIGINS).
    if (!origins.admits(req.getHeader('origin'))) return refuse('403 Forbidden', 'origin not allowed (CORS_ORIGINS)', 'bad_origin');
    const limited = limits.handshake(ip);
    if (limited) return tooMany(limited);
    const encoding = chooseEncoding(offered);
    if (!encoding) return refuse('400 Bad Request', `unsupported subprotocol; use ${ENCODINGS.join(' or ')}`, 'bad_protocol');
    if (!token) return refuse('401 Unauthorized', 'missing token', 'unauthorized');
    let user: AuthenticatedUser;
    try {
      user = deps.authenticate(token);
    } catch (err) {
      return refuse('401 Unauthorized', err instanceof AuthError ? `invalid token: ${err.message}` : 'invalid token', 'unauthorized');
    }
    if (bans.isBanned(user.userId)) return refuse('403 Forbidden', 'banned from the platform', 'banned');
    const overUserLimit = limits.admit(user.userId);
    if (overUserLimit) return tooMany(overUserLimit);
    const conn: Connection = {
      id: randomUUID(),
      userId: user.userId,
      ip,
      encoding,
      tokenExpiresAt: user.expiresAt,
      rooms: new Map(),
      joining: new Set(),
      bannedFrom: new Set(),
      closed: false,
    };
    // Echo the encoding only if the client named one; echoing an unoffered protocol fails the handshake.
    const protocol = offered.includes(encoding) ? encoding : '';
    // uWS runs `open` (which counts the socket in `limits`) inside this call: no other upgrade
    // can pass the checks above in between.
    res.upgrade(conn, key, protocol, extensions, context);
  };
}
