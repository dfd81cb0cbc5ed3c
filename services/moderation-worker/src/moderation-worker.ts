import { QueueGroup } from '@lomi/bus';
import { createLogger, type Logger } from '@lomi/service-runtime';
import { createModerationState, createRoomSanctions, createRoomSettings, createScopeCache } from '@lomi/moderation';
import { createPins, createRooms } from '@lomi/rooms';
import { rejection, startWorker, type RunningWorker } from '@lomi/worker-runtime';
import { createApiHandler } from './api';
import { createAuditLog } from './audit';
import { createBlocks } from './blocks';
import { createCommandHandler } from './commands';
import type { ModerationWorkerConfig } from './config';
import type { ModerationContext } from './context';
import { startPinExpiry } from './expiry';
import { createMetrics } from './metrics';
import { createPlatformBans } from './platform-bans';
import { createReports } from './reports';
import { createRoomActions } from './room-actions';
import { createRoleGrants } from './role-grants';
import { createRoomSettingsWriter } from './room-settings';
import { createServiceHandler } from './service-api';
import { createStoredMessages } from './stored-messages';
import { createStreamEndHandler } from './stream-end';

export type ModerationWorker = RunningWorker;

/** Connects to Postgres, Redis and NATS (connections of its own) and starts serving. */
export function startModerationWorker(config: ModerationWorkerConfig, log: Logger = createLogger('moderation-worker', config.LOG_LEVEL)): Promise<ModerationWorker> {
  return startWorker(
    {
      name: 'moderation-worker',
      queueGroup: QueueGroup.MODERATION_WORKERS,
      createMetrics,
      wire(base, responder) {
        const moderation = createModerationState(base);
        const roomSettings = createRoomSettings(base);
        const sanctions = createRoomSanctions(base);
        const ctx: ModerationContext = {
          ...base,
          rooms: createRooms(base),
          pins: createPins(base),
          moderation,
          scopeCache: createScopeCache(base),
          audit: createAuditLog(base),
          roomSettings,
          sanctions,
          reject: (op, err, client) => rejection(base, op, err, client),
        };
        const storedMessage = createStoredMessages(ctx);
        const grants = createRoleGrants(ctx);
        const bans = createPlatformBans(ctx);
        const reports = createReports(ctx, storedMessage);
        const settings = createRoomSettingsWriter(ctx);
        const actions = createRoomActions(ctx, storedMessage);
        responder.serve(ctx.subjects.commands.moderation, createCommandHandler(ctx, { storedMessage, grants, reports, settings, actions, blocks: createBlocks(ctx) }));
        responder.serve(ctx.subjects.api.moderation, createApiHandler(ctx, reports));
        responder.serve(ctx.subjects.service.moderation, createServiceHandler(ctx, { grants, bans, settings, actions }));
        responder.serve(ctx.subjects.bannedUsers, bans.handleBannedUsers);
        responder.consume(ctx.subjects.events.streamEnded, createStreamEndHandler(ctx));
        return [startPinExpiry(ctx), moderation, roomSettings, sanctions];
      },
    },
    config,
    log,
  );
}
