// Platform bans: a banned user may not connect anywhere. Postgres (platform_bans) is the record;
// every gateway keeps the banned ids in memory, loaded from here at start and at each resync
// (BannedUsersRequest, a page at a time) and kept current by the PlatformBanChanged event
// published after each change commits. Gateways close the user's sockets (4403) when they hear it.
import { createDispatcher } from '@lomi/dispatch';
import { badRequest } from '@lomi/errors';
import { storableUserId } from '@lomi/validation';
import { internal, type lomi } from '@lomi/protocol';
import type { ModerationContext } from './context';
import { reasonText } from './reasons';
import { lockedVersion } from './versions';
import { sql } from '@lomi/db';

const PAGE_DEFAULT = 5000;
const PAGE_MAX = 10_000;

export type PlatformBans = ReturnType<typeof createPlatformBans>;

export function createPlatformBans(ctx: ModerationContext) {
  const { db, bus, subjects, config, audit } = ctx;

  async function change(op: lomi.internal.v1.IPlatformBan, banned: boolean): Promise<boolean> {
    const userId = storableUserId('user_id', op.userId ?? '');
    const actorId = op.actorId ? storableUserId('actor_id', op.actorId) : undefined;
    const reason = banned ? reasonText('reason', op.reason ?? '', config.REASON_MAX_LENGTH) : undefined;
    // The moderation log must say why.
    if (banned && !reason) throw badRequest('reason is required');
    const { changed, version } = await db.transaction().execute(async (trx) => {
      const version = await lockedVersion(trx, config.LOMI_NAMESPACE, `ban.${userId}`);
      const result = banned
        ? (
            await trx
              .insertInto('platform_bans')
              .values({ user_id: userId, reason: reason!, banned_by: actorId ?? null })
              .onConflict((oc) => oc.column('user_id').doNothing())
              .executeTakeFirst()
          ).numInsertedOrUpdatedRows
        : (await trx.deleteFrom('platform_bans').where('user_id', '=', userId).executeTakeFirst()).numDeletedRows;
      const changed = (result ?? 0n) > 0n;
      if (changed) await audit.record({ action: banned ? 'platform_ban' : 'platform_unban', targetUserId: userId, actorId, reason }, trx);
      return { changed, version };
    });
    // Also when nothing changed: a retry reaches gateways that missed the first event.
    bus.publish(subjects.events.platformBanChanged, internal.PlatformBanChanged.encode({ userId, banned, version }).finish());
    return changed;
  }

  return {
    ban: (op: lomi.internal.v1.IPlatformBan) => change(op, true),
    unban: (op: lomi.internal.v1.IPlatformBan) => change(op, false),

    /** Answers a gateway's BannedUsersRequest with one page of banned ids. */
    handleBannedUsers: createDispatcher<lomi.internal.v1.BannedUsersRequest, lomi.internal.v1.IBannedUsersReply>({
      request: internal.BannedUsersRequest,
      reply: internal.BannedUsersReply,
      async answer(request) {
        const limit = Math.min(request.limit || PAGE_DEFAULT, PAGE_MAX);
        const rows = await db
          .selectFrom('platform_bans')
          .select('user_id')
          // Bytewise order, whatever the database's collation, so the cursor is exact.
          .where(sql`user_id collate "C"`, '>', request.afterUserId)
          .orderBy(sql`user_id collate "C"`)
          .limit(limit + 1)
          .execute();
        return { userIds: rows.slice(0, limit).map((r) => r.user_id), more: rows.length > limit };
      },
      fail: (err) => ({ error: ctx.reject('banned_users', err) }),
    }),
  };
}
