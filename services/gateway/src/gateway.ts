import { randomUUID } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { busDependency, connectBus, type Bus } from '@lomi/bus';
import { createLogger, createRegistry, createSubjects, Readiness, serveMetrics, type Logger } from '@lomi/common';
import {
  CloseCode,
  decodeClientFrame,
  Encoding,
  encodeServerFrame,
  ENCODINGS,
  ErrorCode,
  FrameDecodeError,
  TOKEN_SUBPROTOCOL_PREFIX,
  type ServerFrame,
} from '@lomi/protocol';
import { AuthError, createAuthenticator, extractToken, type AuthenticatedUser } from './auth';
import { createCommandHandler, errorFrame } from './commands';
import type { GatewayConfig } from './config';
import type { Connection } from './connection';
import { closeSpread } from './drain';
import { registerDevApi } from './dev-api';
import { registerHttpApi } from './http-api';
import { OriginPolicy } from './cors';
import { createJoinBatches } from './join-batches';
import { createTokenLifetime } from './token-lifetime';
import { clientAddress, ConnectionLimits, type Refusal } from './limits';
import { createGatewayMetrics, type GatewayMetrics } from './metrics';
import { PlatformBans } from './platform-bans';
import { startPresenceReporter } from './presence-reporter';
import { RoomChannels } from './room-channels';
import { closeSlowConsumer, startSlowConsumerSweep } from './slow-consumers';
import { staticFiles } from './static-files';
import { createApp, uws, type us_listen_socket, type WebSocket } from './uws';
import { createWorkerClient } from './worker-client';

export const WS_PATH = '/api/v1/ws/chat';
const SLOW_SWEEP_INTERVAL_MS = 250;

export interface Gateway {
  id: string;
  port: number;
  /** Port of /metrics, /healthz and /readyz (METRICS_PORT). */
  metricsPort: number;
  metrics: GatewayMetrics;
  /**
   * Drains (what SIGTERM does): /readyz answers 503 and upgrades are refused at once; after
   * DRAIN_DELAY_MS the sockets are closed with "reconnect and recover" (4000) at random moments
   * over DRAIN_WINDOW_MS; then the gateway stops listening and drains NATS. A second call
   * returns the first one's promise.
   */
  stop(): Promise<void>;
}

/** Picks the encoding from the client's offered subprotocols; the default is binary protobuf. */
function chooseEncoding(offered: string[]): Encoding | undefined {
  const named = offered.filter((p) => !p.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  if (named.length === 0) return Encoding.PROTO;
  return ENCODINGS.find((e) => named.includes(e));
}

export async function startGateway(config: GatewayConfig, log: Logger = createLogger('gateway', config.LOG_LEVEL)): Promise<Gateway> {
  const gatewayId = `gw-${randomUUID().slice(0, 8)}`;
  log = log.child({ gatewayId });
  const metrics = createGatewayMetrics(createRegistry('gateway', config));
  metrics.bufferBudget.set(config.GATEWAY_BUFFER_BUDGET_BYTES);
  const bus: Bus = await connectBus(config.NATS_URL, gatewayId, log, { requestTimeoutMs: config.REQUEST_TIMEOUT_MS });
  const subjects = createSubjects(config.LOMI_NAMESPACE);
  const workers = createWorkerClient(bus, subjects);
  const authenticate = createAuthenticator(config);
  const origins = new OriginPolicy(config.CORS_ORIGINS);
  const app = createApp();
  const channels = new RoomChannels({
    app,
    bus,
    subjects,
    workers,
    metrics,
    log,
    send,
    banned: (conn, channel) => commands.banned(conn, channel),
    gapWaitMs: config.GAP_WAIT_MS,
    batchWindowMs: config.BATCH_WINDOW_MS,
    batchFramesPerS: config.BATCH_FRAMES_PER_S,
    turnSockets: config.FANOUT_TURN_SOCKETS,
    turnBytes: config.FANOUT_TURN_BYTES,
  });
  const connections = new Set<Connection>();
  const presence = startPresenceReporter({
    bus,
    subjects,
    gatewayId,
    heartbeatMs: config.PRESENCE_HEARTBEAT_MS,
    ttlMs: config.PRESENCE_TTL_MS,
    log,
  });
  const stopSweep = startSlowConsumerSweep(connections, {
    socketBytes: config.SLOW_CONSUMER_BYTES,
    gatewayBytes: config.GATEWAY_BUFFER_BUDGET_BYTES,
    intervalMs: SLOW_SWEEP_INTERVAL_MS,
    onSlow: (_conn, limit) => metrics.slowConsumers.inc({ limit }),
    onSwept: (bytes) => metrics.bufferedBytes.set(bytes),
  });
  let stopping = false;
  const readiness = new Readiness([busDependency(bus)], () => stopping);
  const limits = new ConnectionLimits(
    {
      connectionsPerUser: config.MAX_CONNECTIONS_PER_USER,
      connectionsPerIp: config.MAX_CONNECTIONS_PER_IP,
      handshakesPerSPerIp: config.MAX_HANDSHAKES_PER_S_PER_IP,
      roomsPerConnection: config.MAX_ROOMS_PER_CONNECTION,
      roomsPerUser: config.MAX_ROOMS_PER_USER,
    },
    metrics.limitRefusals,
  );

  function close(conn: Connection, code: number, reason: string): void {
    if (conn.closed || !conn.ws) return;
    conn.ws.end(code, reason);
  }

  function send(conn: Connection, frame: ServerFrame): void {
    if (conn.closed || !conn.ws) return;
    const status = conn.ws.send(encodeServerFrame(frame, conn.encoding), conn.encoding === Encoding.PROTO);
    // 2 = dropped over the backpressure limit: the client would silently miss a reply.
    if (status === 2) {
      metrics.slowConsumers.inc({ limit: 'socket' });
      closeSlowConsumer(conn);
    }
  }

  const bans = new PlatformBans({
    bus,
    subjects,
    workers,
    log,
    resyncMs: config.BANS_RESYNC_MS,
    closeBanned() {
      for (const conn of connections) {
        if (!conn.closed && bans.isBanned(conn.userId)) {
          metrics.bannedCloses.inc();
          close(conn, CloseCode.BANNED, 'banned from the platform');
        }
      }
    },
    onCount: (count) => metrics.platformBans.set(count),
  });

  const tokens = createTokenLifetime({ noticeS: config.TOKEN_EXPIRING_NOTICE_S, send, close });

  const commands = createCommandHandler({
    gatewayId,
    channels,
    joins: createJoinBatches({ workers, metrics, log }),
    workers,
    presence,
    metrics,
    log,
    limits,
    send,
    authenticate,
    tokens,
  });

  app.ws<Connection>(WS_PATH, {
    compression: uws.DISABLED,
    maxPayloadLength: config.MAX_SOCKET_FRAME_BYTES,
    idleTimeout: config.IDLE_TIMEOUT_S,
    sendPingsAutomatically: true,
    maxBackpressure: config.MAX_BACKPRESSURE_BYTES,
    closeOnBackpressureLimit: 1,

    upgrade: (res, req, context) => {
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
      const ip = clientAddress(
        Buffer.from(res.getRemoteAddressAsText()).toString(),
        config.TRUSTED_PROXY_HEADER ? req.getHeader(config.TRUSTED_PROXY_HEADER) : '',
      );
      const refuse = (status: string, message: string, outcome: string, retryAfterS?: number) => {
        metrics.upgrades.inc({ outcome });
        // The access log of a refusal: what the client was told, never its token.
        log.info({ status: Number.parseInt(status, 10), reason: message, outcome, clientAddress: ip }, 'upgrade refused');
        res.writeStatus(status).writeHeader('content-type', 'text/plain');
        if (retryAfterS) res.writeHeader('retry-after', String(retryAfterS));
        res.end(message);
      };
      const tooMany = (r: Refusal) => refuse('429 Too Many Requests', r.message, 'limited', r.retryAfterS);
      if (stopping) return refuse('503 Service Unavailable', 'gateway shutting down', 'shutting_down');
      // A web page of another site must not open a socket with the user's token (CORS_ORIGINS).
      if (!origins.admits(req.getHeader('origin'))) return refuse('403 Forbidden', 'origin not allowed (CORS_ORIGINS)', 'bad_origin');
      const limited = limits.handshake(ip);
      if (limited) return tooMany(limited);
      const encoding = chooseEncoding(offered);
      if (!encoding) return refuse('400 Bad Request', `unsupported subprotocol; use ${ENCODINGS.join(' or ')}`, 'bad_protocol');
      if (!token) return refuse('401 Unauthorized', 'missing token', 'unauthorized');
      let user: AuthenticatedUser;
      try {
        user = authenticate(token);
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
    },

    open: (ws: WebSocket<Connection>) => {
      const conn = ws.getUserData();
      conn.ws = ws;
      connections.add(conn);
      limits.opened(conn);
      tokens.opened(conn);
      presence.connected(conn);
      metrics.upgrades.inc({ outcome: 'ok' });
      metrics.connections.set(connections.size);
    },

    message: (ws, data, isBinary) => {
      const conn = ws.getUserData();
      const bytes = Buffer.from(data);
      // Over the content limit but within the socket's: read only so the refusal answers its request.
      const oversized =
        bytes.length > config.MAX_FRAME_BYTES
          ? (requestId: number) =>
              errorFrame(requestId, ErrorCode.ERROR_CODE_TOO_LARGE, `frame of ${bytes.length} bytes is over the ${config.MAX_FRAME_BYTES} accepted (MAX_FRAME_BYTES)`)
          : undefined;
      let frame;
      try {
        if (conn.encoding === Encoding.JSON && (isBinary || !isUtf8(bytes))) {
          throw new FrameDecodeError('JSON encoding expects UTF-8 text frames');
        }
        // Decode before returning: uWS neuters `data` once this handler returns.
        frame = decodeClientFrame(conn.encoding === Encoding.JSON ? bytes.toString('utf8') : new Uint8Array(bytes), conn.encoding);
      } catch (err) {
        metrics.badFrames.inc();
        const requestId = err instanceof FrameDecodeError ? err.requestId : 0;
        send(conn, oversized ? oversized(requestId) : errorFrame(requestId, ErrorCode.ERROR_CODE_BAD_REQUEST, (err as Error).message));
        return;
      }
      if (oversized) {
        metrics.badFrames.inc();
        send(conn, oversized(frame.requestId));
        return;
      }
      if (conn.tokenExpiresAt * 1000 <= Date.now()) {
        close(conn, CloseCode.AUTH_FAILED, 'token expired');
        return;
      }
      void commands.handle(conn, frame);
    },

    close: (ws) => {
      const conn = ws.getUserData();
      conn.closed = true;
      connections.delete(conn);
      limits.closed(conn);
      tokens.closed(conn);
      metrics.connections.set(connections.size);
      commands.disconnect(conn);
      presence.disconnected(conn);
    },
  });

  if (config.DEV_TOKENS) {
    registerDevApi(app, {
      jwtSecret: config.JWT_SECRET!,
      maxTokenLifetimeS: config.MAX_TOKEN_LIFETIME_S,
      audience: config.JWT_AUDIENCE,
      issuer: config.JWT_ISSUER,
      authenticate,
      workers,
      log,
      origins,
    });
    log.warn('DEV_TOKENS is on: /api/v1/dev/token hands out a token for any user (development only)');
  }
  registerHttpApi(app, {
    serviceToken: config.SERVICE_TOKEN,
    authenticate,
    workers,
    log,
    readiness,
    isBanned: (userId) => bans.isBanned(userId),
    serveFile: config.WEB_CLIENT_DIR ? staticFiles(config.WEB_CLIENT_DIR) : undefined,
    origins,
  });
  // Before listening, so that (with a moderation worker up) no banned user gets in.
  await bans.start();
  const metricsServer = await serveMetrics({ registry: metrics.registry, readiness, port: config.METRICS_PORT, host: config.HOST });

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(config.HOST, config.PORT, (socket) => (socket ? resolve(socket) : reject(new Error(`cannot listen on ${config.HOST}:${config.PORT}`))));
  });
  const port = uws.us_socket_local_port(listenSocket);
  log.info({ port, metricsPort: metricsServer.port, path: WS_PATH }, 'gateway listening');

  async function drainAndStop(): Promise<void> {
    stopping = true;
    log.info({ delayMs: config.DRAIN_DELAY_MS, windowMs: config.DRAIN_WINDOW_MS, connections: connections.size }, 'gateway draining');
    await closeSpread(
      () => [...connections],
      (conn) => close(conn, CloseCode.SHUTDOWN, 'gateway shutting down; reconnect and recover'),
      { delayMs: config.DRAIN_DELAY_MS, windowMs: config.DRAIN_WINDOW_MS },
    );
    stopSweep();
    uws.us_listen_socket_close(listenSocket);
    presence.stop();
    bans.stop();
    await bus.drain();
    // Closes what is left, idle keep-alive HTTP connections included, so the process can exit.
    app.close();
    await metricsServer.close();
    log.info('gateway stopped');
  }

  let stopped: Promise<void> | undefined;
  return {
    id: gatewayId,
    port,
    metricsPort: metricsServer.port,
    metrics,
    stop: () => (stopped ??= drainAndStop()),
  };
}
