// The moderation log: every moderation action is appended here, by the moderation workers only,
// in the transaction that makes the change when there is one. Read back by
// GET /api/v1/live/:id/moderation-log (api.ts).
import type { Database, Kysely } from '@lomi/db';
import { roomKindName, type Room } from '@lomi/protocol';
import type { ModerationContext } from './context';

/** What was done; new actions add a name here. */
export type ModerationActionName =
  | 'pin'
  | 'unpin'
  | 'grant_moderator'
  | 'revoke_moderator'
  | 'grant_staff'
  | 'revoke_staff'
  | 'platform_ban'
  | 'platform_unban'
  | 'room_settings'
  | 'delete_message'
  | 'timeout'
  | 'ban'
  | 'unban';

export interface ModerationAction {
  action: ModerationActionName;
  /** Who did it; undefined for the app back end through the service API without naming who. */
  actorId?: string;
  targetUserId?: string;
  /** The room it was done in; undefined for platform-wide actions (staff, platform bans). */
  room?: Room;
  /** The broadcaster whose every stream it covers (channel moderator grants). */
  channelId?: string;
  messageSeq?: number;
  reason?: string;
  expiresAt?: Date;
}

export type AuditLog = ReturnType<typeof createAuditLog>;

export function createAuditLog(ctx: Pick<ModerationContext, 'db' | 'metrics'>) {
  return {
    /** Appends `action` to the log, in `db` when it is the transaction making the change. */
    async record(a: ModerationAction, db: Kysely<Database> = ctx.db): Promise<void> {
      await insert(db, a);
      ctx.metrics.actions.inc({ action: a.action });
    },
  };
}

async function insert(db: Kysely<Database>, a: ModerationAction): Promise<void> {
  await db
    .insertInto('moderation_actions')
    .values({
      action: a.action,
      actor_id: a.actorId || null,
      target_user_id: a.targetUserId ?? null,
      room_kind: a.room ? (roomKindName(a.room.kind) ?? null) : null,
      room_id: a.room?.id ?? null,
      channel_id: a.channelId ?? null,
      message_seq: a.messageSeq ?? null,
      reason: a.reason ?? null,
      expires_at: a.expiresAt ?? null,
    })
    .execute();
}
