// Moderator and staff grants: the moderation workers' writes of the roles. A change runs in one
// transaction that holds its scope's lock: the change, its moderation log entry, the scope's
// users as they now are and a new version. Then the Redis cache takes them at that version (a
// slower writer's older version cannot replace them), this worker forgets its own copy, and every
// other reader hears a ModerationChanged event: the change holds everywhere within a second.
// A repeated grant or revoke changes nothing and logs nothing, but still rewrites the cache and
// tells the readers, so a retry repairs a change whose writer died before telling anyone.
import type { Database, Kysely, ModeratorScopeKind } from '@lomi/db';
import { channelScope, STAFF_SCOPE, streamScope, loadScope, type Scope } from '@lomi/moderation';
import { internal } from '@lomi/protocol';
import type { ModerationAction } from './audit';
import type { ModerationContext } from './context';
import { lockedVersion } from './versions';

/** Where a moderator grant applies: one stream, or every stream of a broadcaster (the channel). */
export interface ModeratorScopeRef {
  kind: ModeratorScopeKind;
  /** The stream id, or the broadcaster's user id. */
  id: string;
}

const scopeOf = (ref: ModeratorScopeRef): Scope => (ref.kind === 'stream' ? streamScope(ref.id) : channelScope(ref.id));

/** Who asked, and where: for the moderation log. */
export type Origin = Pick<ModerationAction, 'actorId' | 'room'>;

export type RoleGrants = ReturnType<typeof createRoleGrants>;

export function createRoleGrants(ctx: ModerationContext) {
  const { db, bus, subjects, moderation, scopeCache, config, audit } = ctx;

  /** Runs `change` under the scope's lock, logs it when it changed something, then tells everyone. */
  async function changeScope(scope: Scope, change: (trx: Kysely<Database>) => Promise<boolean>, action: ModerationAction): Promise<boolean> {
    const { changed, users, version } = await db.transaction().execute(async (trx) => {
      const version = await lockedVersion(trx, config.LOMI_NAMESPACE, scope);
      const changed = await change(trx);
      if (changed) await audit.record(action, trx);
      return { changed, users: await loadScope(trx, scope), version };
    });
    await scopeCache.write(scope, version, users);
    moderation.forget(scope);
    bus.publish(subjects.events.moderationChanged, internal.ModerationChanged.encode({ scope }).finish());
    return changed;
  }

  const done = (result: { numInsertedOrUpdatedRows?: bigint; numDeletedRows?: bigint } | undefined) =>
    (result?.numInsertedOrUpdatedRows ?? result?.numDeletedRows ?? 0n) > 0n;

  return {
    /** Makes `userId` a moderator of the scope; false when they already were. */
    grantModerator(ref: ModeratorScopeRef, userId: string, origin: Origin): Promise<boolean> {
      return changeScope(
        scopeOf(ref),
        async (trx) =>
          done(
            await trx
              .insertInto('moderators')
              .values({ scope: ref.kind, scope_id: ref.id, user_id: userId, granted_by: origin.actorId || null })
              .onConflict((oc) => oc.columns(['scope', 'scope_id', 'user_id']).doNothing())
              .executeTakeFirst(),
          ),
        { action: 'grant_moderator', targetUserId: userId, channelId: ref.kind === 'channel' ? ref.id : undefined, ...origin },
      );
    },

    /** Takes the scope's grant back; false when there was none. */
    revokeModerator(ref: ModeratorScopeRef, userId: string, origin: Origin): Promise<boolean> {
      return changeScope(
        scopeOf(ref),
        async (trx) =>
          done(await trx.deleteFrom('moderators').where('scope', '=', ref.kind).where('scope_id', '=', ref.id).where('user_id', '=', userId).executeTakeFirst()),
        { action: 'revoke_moderator', targetUserId: userId, channelId: ref.kind === 'channel' ? ref.id : undefined, ...origin },
      );
    },

    grantStaff(userId: string, actorId?: string): Promise<boolean> {
      return changeScope(
        STAFF_SCOPE,
        async (trx) =>
          done(
            await trx
              .insertInto('staff')
              .values({ user_id: userId, granted_by: actorId || null })
              .onConflict((oc) => oc.column('user_id').doNothing())
              .executeTakeFirst(),
          ),
        { action: 'grant_staff', targetUserId: userId, actorId },
      );
    },

    revokeStaff(userId: string, actorId?: string): Promise<boolean> {
      return changeScope(STAFF_SCOPE, async (trx) => done(await trx.deleteFrom('staff').where('user_id', '=', userId).executeTakeFirst()), {
        action: 'revoke_staff',
        targetUserId: userId,
        actorId,
      });
    },
  };
}
