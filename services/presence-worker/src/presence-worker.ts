import { randomUUID } from 'node:crypto';
import { createLogger, QueueGroup, type ClientRequest, type Logger } from '@lomi/common';
import { createRooms, rejection, startWorker, type RunningWorker } from '@lomi/rooms';
import { createActiveRooms } from './active-rooms';
import { createApiHandler } from './api';
import { createCommandHandler } from './commands';
import type { PresenceWorkerConfig } from './config';
import { createJoinLeaveMessages } from './join-leave-messages';
import { createMetrics } from './metrics';
import { createReportHandler } from './reports';
import { createRoomPresence } from './room-presence';
import { createStreamEndHandler } from './stream-end';
import { startSweeper } from './sweeper';
import { createTyping } from './typing';
import { createUserConnections } from './user-connections';
import { createViewerChanges } from './viewer-changes';
import { startViewingSessions } from './viewing-sessions';

export type PresenceWorker = RunningWorker;

/** Connects to Postgres, Redis and NATS (connections of its own) and starts serving. */
export function startPresenceWorker(
  config: PresenceWorkerConfig,
  log: Logger = createLogger('presence-worker', config.LOG_LEVEL),
): Promise<PresenceWorker> {
  // Names this worker in the sweep lock, so one worker sweeps per tick.
  const workerId = `pw-${randomUUID().slice(0, 8)}`;
  return startWorker(
    {
      name: 'presence-worker',
      queueGroup: QueueGroup.PRESENCE_WORKERS,
      createMetrics,
      wire(ctx, responder) {
        const reject = (op: string, err: unknown, client?: ClientRequest) => rejection(ctx, op, err, client);
        const activeRooms = createActiveRooms(ctx);
        const presence = createRoomPresence(ctx);
        const typing = createTyping(ctx, activeRooms);
        const messages = createJoinLeaveMessages(ctx);
        const sessions = startViewingSessions(ctx);
        const apply = createViewerChanges(ctx, sessions, messages);
        const userConnections = createUserConnections(ctx);

        responder.consume(ctx.subjects.presenceReports, createReportHandler(ctx, { presence, activeRooms, connections: userConnections, typing, apply }));
        responder.consume(ctx.subjects.events.streamEnded, createStreamEndHandler(ctx, presence, sessions));
        responder.serve(ctx.subjects.commands.presence, createCommandHandler(typing, createRooms(ctx), reject, ctx.metrics.commandSeconds));
        responder.serve(ctx.subjects.api.presence, createApiHandler(ctx, presence, apply, reject));
        const sweeper = startSweeper(ctx, { activeRooms, presence, typing, messages, apply, workerId });
        // Sessions last: the sweep's final departures are written before the connections close.
        return [sweeper, sessions];
      },
    },
    config,
    log.child({ workerId }),
  );
}
