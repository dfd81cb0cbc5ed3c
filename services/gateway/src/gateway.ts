import { randomUUID } from 'node:crypto';
import { busDependency, connectBus, createSubjects, type Bus } from '@lomi/bus';
import { createLogger, createRegistry, Readiness, serveMetrics, type Logger } from '@lomi/service-runtime';
import { CloseCode, WS_PATH } from '@lomi/protocol';
import { createAuthenticator } from './auth';
import { chatSocket } from './chat-socket';
import { createCommandHandler } from './commands';
import type { GatewayConfig } from './config';
import type { Connection } from './connection';
import { closeSpread } from './drain';
import { registerDevApi } from './dev-api';
import { registerHttpApi } from './http-api';
import { OriginPolicy } from './cors';
import { createJoinBatches } from './join-batches';
import { createTokenLifetime } from './token-lifetime';
import { ConnectionLimits, limitSettings } from './limits';
import { createGatewayMetrics, type GatewayMetrics } from './metrics';
import { PlatformBans } from './platform-bans';
import { startPresenceReporter } from './presence-reporter';
import { RoomChannels } from './room-channels';
import { startSlowConsumerSweep } from './slow-consumers';
import { createSocketOutput } from './socket-output';
import { staticFiles } from './static-files';
import { createApp, uws, type us_listen_socket } from './uws';
import { createWorkerClient } from './worker-client';

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

/** Wires the gateway's parts together and listens; see chat-socket.ts for the sockets themselves. */
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
  const output = createSocketOutput(metrics);
  const { send, close } = output;
  const connections = new Set<Connection>();
  const channels = new RoomChannels<Connection>({
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
  const presence = startPresenceReporter({ bus, subjects, gatewayId, heartbeatMs: config.PRESENCE_HEARTBEAT_MS, ttlMs: config.PRESENCE_TTL_MS, log });
  const stopSweep = startSlowConsumerSweep(connections, {
    socketBytes: config.SLOW_CONSUMER_BYTES,
    gatewayBytes: config.GATEWAY_BUFFER_BUDGET_BYTES,
    intervalMs: SLOW_SWEEP_INTERVAL_MS,
    onSlow: (_conn, limit) => metrics.slowConsumers.inc({ limit }),
    onSwept: (bytes) => metrics.bufferedBytes.set(bytes),
  });
  let stopping = false;
  const readiness = new Readiness([busDependency(bus)], () => stopping);
  const limits = new ConnectionLimits(limitSettings(config), metrics.limitRefusals);
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
  const joins = createJoinBatches({ workers, metrics, log });
  const commands = createCommandHandler({ gatewayId, channels, joins, workers, presence, metrics, log, limits, send, authenticate, tokens });
  const sockets = { config, metrics, log, origins, limits, authenticate, bans, stopping: () => stopping, connections, tokens, presence, commands, output };
  app.ws<Connection>(WS_PATH, chatSocket(sockets));

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
  const serveFile = config.WEB_CLIENT_DIR ? staticFiles(config.WEB_CLIENT_DIR) : undefined;
  const isBanned = (userId: string) => bans.isBanned(userId);
  registerHttpApi(app, { serviceToken: config.SERVICE_TOKEN, authenticate, workers, log, readiness, isBanned, serveFile, origins });
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
  return { id: gatewayId, port, metricsPort: metricsServer.port, metrics, stop: () => (stopped ??= drainAndStop()) };
}
