import { randomUUID } from 'node:crypto';
import {
  createLogger,
  createRegistry,
  createResponder,
  createSubjects,
  OwnedConnections,
  QueueGroup,
  type Logger,
} from '@lomi/common';
import { connectWorker } from '@lomi/rooms';
import type { Registry } from 'prom-client';
import { createActiveRooms } from './active-rooms';
import { createApiHandler } from './api';
import { createCommandHandler } from './commands';
import type { PresenceWorkerConfig } from './config';
import type { PresenceContext } from './context';
import { createJoinLeaveMessages } from './join-leave-messages';
import { createMembership } from './membership';
import { createMetrics } from './metrics';
import { createReject } from './rejections';
import { createReportHandler } from './reports';
import { createRoomPresence } from './room-presence';
import { createStreamEndHandler } from './stream-end';
import { startSweeper } from './sweeper';
import { createTyping } from './typing';
import { createUserConnections } from './user-connections';
import { createViewerChanges } from './viewer-changes';
import { startViewingSessions } from './viewing-sessions';

export interface PresenceWorker {
  /** This worker's metrics (its own registry); serving them is up to the caller. */
  readonly registry: Registry;
  /** Stops taking reports and requests, finishes those in hand, writes pending sessions, closes its connections. */
  stop(): Promise<void>;
}

/** Connects to Postgres, Redis and NATS (connections of its own) and starts serving. */
export async function startPresenceWorker(
  config: PresenceWorkerConfig,
  log: Logger = createLogger('presence-worker', config.LOG_LEVEL),
): Promise<PresenceWorker> {
  const workerId = `pw-${randomUUID().slice(0, 8)}`;
  log = log.child({ workerId });
  const connections = new OwnedConnections(log);
  try {
    const { db, redis, nc, keys } = await connectWorker('presence-worker', config, connections, log);
    const registry = createRegistry('presence-worker');
    const ctx: PresenceContext = {
      config,
      log,
      nc,
      redis,
      db,
      keys,
      subjects: createSubjects(config.LOMI_NAMESPACE),
      metrics: createMetrics(registry),
    };

    const reject = createReject(ctx);
    const activeRooms = createActiveRooms(ctx);
    const presence = createRoomPresence(ctx);
    const typing = createTyping(ctx, activeRooms);
    const messages = createJoinLeaveMessages(ctx);
    const sessions = startViewingSessions(ctx);
    const apply = createViewerChanges(ctx, sessions, messages);
    const userConnections = createUserConnections(ctx);

    const responder = createResponder(nc, QueueGroup.PRESENCE_WORKERS, log);
    responder.consume(ctx.subjects.presenceReports, createReportHandler(ctx, { presence, activeRooms, connections: userConnections, typing, apply }));
    responder.consume(ctx.subjects.events.streamEnded, createStreamEndHandler(ctx, presence, sessions));
    responder.serve(ctx.subjects.commands.presence, createCommandHandler(typing, createMembership(ctx), reject));
    responder.serve(ctx.subjects.api.presence, createApiHandler(ctx, presence, apply, reject));
    const sweeper = startSweeper(ctx, { activeRooms, presence, typing, messages, apply, workerId });
    log.info({ namespace: config.LOMI_NAMESPACE }, 'presence worker started');

    return {
      registry,
      async stop() {
        await responder.drain();
        await sweeper.stop();
        await sessions.stop();
        await connections.close();
        log.info('presence worker stopped');
      },
    };
  } catch (err) {
    await connections.close();
    throw err;
  }
}
