import { randomUUID } from 'node:crypto';
import { QueueGroup } from '@lomi/bus';
import type { ClientRequest } from '@lomi/dispatch';
import { createLogger, type Logger } from '@lomi/service-runtime';
import { createRooms } from '@lomi/rooms';
import { rejection, startWorker, type RunningWorker } from '@lomi/worker-runtime';
import { createApiHandler } from './api';
import { createCommandHandler } from './commands';
import type { PresenceWorkerConfig } from './config';
import { createJoinLeaveMessages } from './join-leave-messages';
import { createMetrics } from './metrics';
import { createReportHandler } from './reports';
import { createStreamEndHandler } from './stream-end';
import { createPresenceStores } from './stores';
import { startSweeper } from './sweeper';
import { createTyping } from './typing';
import { createViewerChanges } from './viewer-changes';
import { startViewingSessions } from './viewing-sessions';

export type PresenceWorker = RunningWorker;

/** Connects to Postgres, the hot state (Redis or memory) and NATS (connections of its own) and starts serving. */
export function startPresenceWorker(config: PresenceWorkerConfig, log: Logger = createLogger('presence-worker', config.LOG_LEVEL)): Promise<PresenceWorker> {
  // Names this worker in the sweep lock, so one worker sweeps per tick.
  const workerId = `pw-${randomUUID().slice(0, 8)}`;
  return startWorker(
    {
      name: 'presence-worker',
      queueGroup: QueueGroup.PRESENCE_WORKERS,
      createMetrics,
      wire(ctx, responder) {
        const reject = (op: string, err: unknown, client?: ClientRequest) => rejection(ctx, op, err, client);
        const { presence, connections, typing: typingStore, digests, activeRooms } = createPresenceStores(ctx);
        const typing = createTyping(ctx, typingStore, activeRooms);
        const messages = createJoinLeaveMessages(ctx, digests);
        const sessions = startViewingSessions(ctx);
        const apply = createViewerChanges(ctx, sessions, messages);

        responder.consume(ctx.subjects.presenceReports, createReportHandler(ctx, { presence, activeRooms, connections, typing, apply }));
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
