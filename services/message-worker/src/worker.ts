import {
  connectNats,
  connectRedis,
  createKeys,
  createLogger,
  createRegistry,
  createSubjects,
  QueueGroup,
  type Logger,
} from '@lomi/common';
import { connectDb, migrateToLatest } from '@lomi/db';
import type { Subscription } from 'nats';
import type { Registry } from 'prom-client';
import { createApiHandler } from './api';
import { createAppend } from './append';
import { createCommandHandler } from './commands';
import type { MessageWorkerConfig } from './config';
import type { WorkerContext } from './context';
import { createHistory } from './history';
import { createMetrics } from './metrics';
import { createPager } from './pages';
import { startPersister } from './persister';
import { createRangeHandler } from './range';
import { createRooms } from './rooms';
import { createServiceHandler } from './service-api';

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
  // Closed newest first: NATS before the stores its handlers use.
  const closers: (() => Promise<unknown>)[] = [];
  async function close(): Promise<void> {
    for (const closer of closers.splice(0)) await closer().catch((err: unknown) => log.warn({ err }, 'closing a connection failed'));
  }

  try {
    const db = await connectDb(config.DATABASE_URL, log);
    closers.unshift(() => db.destroy());
    if (config.RUN_MIGRATIONS) {
      const applied = await migrateToLatest(db);
      if (applied.length > 0) log.info({ applied }, 'database migrated');
    }
    const redis = await connectRedis(config.REDIS_URL, log);
    closers.unshift(() => redis.quit());
    const nc = await connectNats(config.NATS_URL, 'message-worker', log);
    closers.unshift(() => nc.drain());
    const registry = createRegistry('message-worker');
    const ctx: WorkerContext = {
      config,
      log,
      nc,
      redis,
      db,
      keys: createKeys(config.LOMI_NAMESPACE),
      subjects: createSubjects(config.LOMI_NAMESPACE),
      metrics: createMetrics(registry),
    };

    const rooms = createRooms(ctx);
    const history = createHistory(ctx);
    const page = createPager(history);
    const persister = startPersister(ctx);

    const inFlight = new Set<Promise<void>>();
    const serve = (subject: string, handle: (data: Uint8Array) => Promise<Uint8Array>): Subscription =>
      nc.subscribe(subject, {
        queue: QueueGroup.MESSAGE_WORKERS,
        callback: (err, msg) => {
          if (err) {
            log.warn({ err, subject }, 'subscription error');
            return;
          }
          const done = handle(msg.data)
            .then((reply) => void msg.respond(reply))
            .catch((e: unknown) => log.error({ err: e, subject }, 'could not send a reply'))
            .finally(() => inFlight.delete(done));
          inFlight.add(done);
        },
      });
    const subscriptions = [
      serve(ctx.subjects.commands.message, createCommandHandler(ctx, rooms, history, page, createAppend(ctx))),
      serve(ctx.subjects.api.message, createApiHandler(ctx, rooms, page)),
      serve(ctx.subjects.range, createRangeHandler(ctx, history)),
      serve(ctx.subjects.service, createServiceHandler(ctx, rooms)),
    ];
    log.info({ namespace: config.LOMI_NAMESPACE }, 'message worker started');

    return {
      registry,
      async stop() {
        await Promise.all(subscriptions.map((s) => s.drain()));
        await Promise.all(inFlight);
        await persister.stop();
        await close();
        log.info('message worker stopped');
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
