import { createLogger, QueueGroup, type ClientRequest, type Logger } from '@lomi/common';
import { createPins, createRooms, rejection, startWorker, type RunningWorker } from '@lomi/rooms';
import { createApiHandler } from './api';
import { createCommandHandler } from './commands';
import type { ModerationWorkerConfig } from './config';
import type { ModerationContext } from './context';
import { startPinExpiry } from './expiry';
import { createMetrics } from './metrics';
import { createStreamEndHandler } from './stream-end';

export type ModerationWorker = RunningWorker;

/** Connects to Postgres, Redis and NATS (connections of its own) and starts serving. */
export function startModerationWorker(
  config: ModerationWorkerConfig,
  log: Logger = createLogger('moderation-worker', config.LOG_LEVEL),
): Promise<ModerationWorker> {
  return startWorker(
    {
      name: 'moderation-worker',
      queueGroup: QueueGroup.MODERATION_WORKERS,
      createMetrics,
      wire(base, responder) {
        const ctx: ModerationContext = { ...base, rooms: createRooms(base), pins: createPins(base) };
        const reject = (op: string, err: unknown, client?: ClientRequest) => rejection(ctx, op, err, client);
        responder.serve(ctx.subjects.commands.moderation, createCommandHandler(ctx, reject));
        responder.serve(ctx.subjects.api.moderation, createApiHandler(ctx, reject));
        responder.consume(ctx.subjects.events.streamEnded, createStreamEndHandler(ctx));
        return [startPinExpiry(ctx)];
      },
    },
    config,
    log,
  );
}
