// A moderation scope is a list of users with a power: a stream's moderators, a channel's (every
// stream of one broadcaster) or the platform's staff. Each has a key ("stream:<id>",
// "channel:<broadcaster id>", "staff") that names it in the caches and in the
// ModerationChanged events, and is read from Postgres, the record, here.
import type { RoomStores } from '@lomi/rooms';
import { createVersionedCache, type VersionedCache } from './versioned-cache';
import type { CachedPiece } from './versioned-cache-store';

export type Scope = string & { readonly __scope: unique symbol };

export const streamScope = (streamId: string) => `stream:${streamId}` as Scope;
export const channelScope = (broadcasterId: string) => `channel:${broadcasterId}` as Scope;
export const STAFF_SCOPE = 'staff' as Scope;

/** The scope of a ModerationChanged event, or undefined for one this version does not know. */
export function parseScope(value: string): Scope | undefined {
  return value === STAFF_SCOPE || value.startsWith('stream:') || value.startsWith('channel:') ? (value as Scope) : undefined;
}

/** The users of `scope` as Postgres has them now (inside a transaction when `db` is one). */
export async function loadScope(db: RoomStores['db'], scope: Scope): Promise<string[]> {
  if (scope === STAFF_SCOPE) return (await db.selectFrom('staff').select('user_id').execute()).map((r) => r.user_id);
  const colon = scope.indexOf(':');
  const kind = scope.slice(0, colon) === 'channel' ? 'channel' : 'stream';
  const rows = await db
    .selectFrom('moderators')
    .select('user_id')
    .where('scope', '=', kind)
    .where('scope_id', '=', scope.slice(colon + 1))
    .execute();
  return rows.map((r) => r.user_id);
}

/** The cached users of a moderation scope. */
export const SCOPE_PIECE: CachedPiece<Scope> = {
  name: 'scope',
  id: (scope) => scope,
  redisKey: (keys, scope) => keys.moderationScope(scope),
  // A change whose writer died between its commit and its cache write is seen at the latest then.
  ttlSeconds: 60,
};

export function createScopeCache({ db, hot }: RoomStores): VersionedCache<Scope, string[]> {
  return createVersionedCache<Scope, string[]>({
    hot,
    piece: SCOPE_PIECE,
    encode: (ids) => JSON.stringify(ids),
    decode: (raw) => JSON.parse(raw.toString()) as string[],
    load: async (scope) => ({ value: await loadScope(db, scope), version: 0 }),
  });
}
