import {
  createLogger,
  createRegistry,
  createResponder,
  createSubjects,
  failureOf,
  OwnedConnections,
  QueueGroup,
  type Logger,
} from '@lomi/common';
import { ErrorCode, type ProtocolError } from '@lomi/protocol';
import { connectWorker, createPins, createRooms } from '@lomi/rooms';
import type { Registry } from 'prom-client';
import { createApiHandler } from './api';
import { createCommandHandler } from './commands';
import type { ModerationWorkerConfig } from './config';
import type { ModerationContext } from './context';
import { startPinExpiry } from './expiry';
import { createMetrics } from './metrics';
import { createStreamEndHandler } from './stream-end';

export interface ModerationWorker {
  /** This worker's metrics (its own registry); serving them is up to the caller. */
  readonly registry: Registry;
  /** Stops taking requests, answers those in hand, stops the pin sweep, closes its connections. */
  stop(): Promise<void>;
}

/** Connects to Postgres, Redis and NATS (connections of its own) and starts serving. */
export async function startModerationWorker(
  config: ModerationWorkerConfig,
  log: Logger = createLogger('moderation-worker', config.LOG_LEVEL),
): Promise<ModerationWorker> {
  const connections = new OwnedConnections(log);
  try {
    const { nc, ...stores } = await connectWorker('moderation-worker', config, connections, log);
    const registry = createRegistry('moderation-worker');
    const ctx: ModerationContext = {
      config,
      log,
      nc,
      subjects: createSubjects(config.LOMI_NAMESPACE),
      metrics: createMetrics(registry),
      rooms: createRooms(stores),
      pins: createPins(stores),
    };
    const reject = (op: string, err: unknown): ProtocolError => {
      const error = failureOf(err, log);
      ctx.metrics.rejected.inc({ op, code: ErrorCode[error.code] });
      return error;
    };

    const responder = createResponder(nc, QueueGroup.MODERATION_WORKERS, log);
    responder.serve(ctx.subjects.commands.moderation, createCommandHandler(ctx, reject));
    responder.serve(ctx.subjects.api.moderation, createApiHandler(ctx, reject));
    responder.consume(ctx.subjects.events.streamEnded, createStreamEndHandler(ctx));
    const expiry = startPinExpiry(ctx);
    log.info({ namespace: config.LOMI_NAMESPACE }, 'moderation worker started');

    return {
      registry,
      async stop() {
        await responder.drain();
        await expiry.stop();
        await connections.close();
        log.info('moderation worker stopped');
      },
    };
  } catch (err) {
    await connections.close();
    throw err;
  }
}
