import {
  createLogger,
  createRegistry,
  createResponder,
  createSubjects,
  OwnedConnections,
  QueueGroup,
  type Logger,
} from '@lomi/common';
import { connectWorker, createPins } from '@lomi/rooms';
import type { Registry } from 'prom-client';
import { createApiHandler } from './api';
import { createAppend } from './append';
import { createCommandHandler } from './commands';
import type { MessageWorkerConfig } from './config';
import { createConversationList } from './conversations';
import type { WorkerContext } from './context';
import { createHistory } from './history';
import { createMetrics } from './metrics';
import { createPager } from './pages';
import { startPersister } from './persister';
import { createRangeHandler } from './range';
import { createReceipts } from './receipts';
import { createRooms } from './rooms';
import { createServiceHandler } from './service-api';
import { createSystemMessageHandler } from './system-messages';
import { startOfflineWebhooks } from './webhooks';

export interface MessageWorker {
  /** This worker's metrics (its own registry); serving them is up to the caller. */
  readonly registry: Registry;
  /** Stops taking requests, answers those in hand, stops the persister, closes its connections. */
  stop(): Promise<void>;
}

/** Connects to Postgres, Redis and NATS (connections of its own) and starts serving. */
export async function startMessageWorker(
  config: MessageWorkerConfig,
  log: Logger = createLogger('message-worker', config.LOG_LEVEL),
): Promise<MessageWorker> {
  const connections = new OwnedConnections(log);
  try {
    const { db, redis, nc, keys } = await connectWorker('message-worker', config, connections, log);
    const registry = createRegistry('message-worker');
    const ctx: WorkerContext = {
      config,
      log,
      nc,
      redis,
      db,
      keys,
      subjects: createSubjects(config.LOMI_NAMESPACE),
      metrics: createMetrics(registry),
    };

    const rooms = createRooms(ctx);
    const history = createHistory(ctx);
    const page = createPager(history);
    const persister = startPersister(ctx);
    const offline = startOfflineWebhooks(ctx);
    const receipts = createReceipts(ctx);
    const commandParts = {
      rooms,
      history,
      page,
      append: createAppend(ctx),
      pins: createPins(ctx),
      receipts,
      listConversations: createConversationList(ctx, history, receipts),
      offline,
    };

    const responder = createResponder(nc, QueueGroup.MESSAGE_WORKERS, log);
    const { serve } = responder;
    serve(ctx.subjects.commands.message, createCommandHandler(ctx, commandParts));
    serve(ctx.subjects.api.message, createApiHandler(ctx, rooms, page));
    serve(ctx.subjects.range, createRangeHandler(ctx, history));
    serve(ctx.subjects.service, createServiceHandler(ctx, rooms));
    serve(ctx.subjects.systemMessages, createSystemMessageHandler(ctx, rooms, commandParts.append));
    log.info({ namespace: config.LOMI_NAMESPACE }, 'message worker started');

    return {
      registry,
      async stop() {
        await responder.drain();
        await persister.stop();
        await offline.stop();
        await connections.close();
        log.info('message worker stopped');
      },
    };
  } catch (err) {
    await connections.close();
    throw err;
  }
}
