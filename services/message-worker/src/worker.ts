import { QueueGroup } from '@lomi/bus';
import { createLogger, type Logger } from '@lomi/service-runtime';
import { createModerationState, createRoomSanctions, createRoomSettings } from '@lomi/moderation';
import { createPresenceReader } from '@lomi/presence';
import { createPins } from '@lomi/rooms';
import { startWorker, type RunningWorker, type WorkerDefinition } from '@lomi/worker-runtime';
import { createApiHandler } from './api';
import { createAppend } from './append';
import { createCommandHandler } from './commands';
import type { MessageWorkerConfig } from './config';
import { createConversationList } from './conversations';
import { createDedupSeeds } from './dedup-seeds';
import { createDurability } from './durability';
import { createHistory } from './history';
import { createJoinHandler } from './joins';
import { createMetrics } from './metrics';
import { createPager } from './pages';
import { startPersister } from './persister';
import { createRangeHandler } from './range';
import { createReceipts } from './receipts';
import { createRecovery } from './recovery';
import { createOutbox, createRoomLog } from './room-log';
import { createRooms } from './rooms';
import { createSendRules } from './send-rules';
import { createSequences } from './sequences';
import { createServiceHandler } from './service-api';
import { watchStoreIncarnation } from './store-watch';
import { createSystemMessageHandler } from './system-messages';
import { createTombstones } from './tombstones';
import { startOfflineWebhooks } from './webhooks';
import { createWordFilters } from './word-filters';

export type MessageWorker = RunningWorker;

const messageWorker: WorkerDefinition<MessageWorkerConfig, ReturnType<typeof createMetrics>> = {
  name: 'message-worker',
  queueGroup: QueueGroup.MESSAGE_WORKERS,
  createMetrics,
  wire(ctx, responder) {
    const rooms = createRooms(ctx);
    const { HISTORY_MAX_LEN, HISTORY_TTL_SECONDS, HISTORY_META_TTL_SECONDS } = ctx.config;
    const roomLog = createRoomLog(ctx.hot, { historyMaxLen: HISTORY_MAX_LEN, historyTtlSeconds: HISTORY_TTL_SECONDS, stateTtlSeconds: HISTORY_META_TTL_SECONDS });
    const outbox = createOutbox(ctx.hot);
    const sequences = createSequences(ctx, roomLog);
    const tombstones = createTombstones(ctx, roomLog);
    const history = createHistory(ctx, roomLog, outbox, sequences, tombstones);
    const page = createPager(history);
    const storeWatch = watchStoreIncarnation(ctx, roomLog);
    const persister = startPersister(ctx, outbox);
    const presence = createPresenceReader(ctx);
    const offline = startOfflineWebhooks(ctx, presence);
    const receipts = createReceipts(ctx, outbox);
    const moderation = createModerationState(ctx);
    const roomSettings = createRoomSettings(ctx);
    const sanctions = createRoomSanctions(ctx);
    const commandParts = {
      rooms,
      history,
      page,
      append: createAppend(ctx, roomLog, rooms, sequences, createDedupSeeds(ctx, roomLog)),
      durability: createDurability(ctx, roomLog, outbox, history),
      receipts,
      listConversations: createConversationList(ctx, history, receipts),
      offline,
      admit: createSendRules(ctx, { moderation, roomSettings, sanctions, filters: createWordFilters(ctx.config) }),
    };

    const { serve } = responder;
    serve(ctx.subjects.commands.message, createCommandHandler(ctx, commandParts));
    serve(
      ctx.subjects.joins,
      createJoinHandler(ctx, { rooms, history, pins: createPins(ctx), receipts, recover: createRecovery(ctx, history), moderation, roomSettings, sanctions, presence }),
    );
    serve(ctx.subjects.api.message, createApiHandler(ctx, rooms, page));
    serve(ctx.subjects.range, createRangeHandler(ctx, history));
    serve(ctx.subjects.service.message, createServiceHandler(ctx, rooms));
    serve(ctx.subjects.tombstones, tombstones.handle);
    serve(ctx.subjects.systemMessages, createSystemMessageHandler(ctx, commandParts.append, commandParts.durability));
    return [storeWatch, persister, offline, moderation, roomSettings, sanctions];
  },
};

/** Connects to Postgres, Redis and NATS (connections of its own) and starts serving. */
export function startMessageWorker(config: MessageWorkerConfig, log: Logger = createLogger('message-worker', config.LOG_LEVEL)): Promise<MessageWorker> {
  return startWorker(messageWorker, config, log);
}
