// Who may send typing events in a private room: its two members, by the same rule (and the same
// answer for "no such conversation" and "not yours") as the message worker. The message worker's
// room-facts cache (keys.meta) usually has them, since members join before they type; on a miss
// Postgres answers, and the cache is left for the message worker to fill.
import { RequestError } from '@lomi/common';
import { ErrorCode, type Room } from '@lomi/protocol';
import type { PresenceContext } from './context';

/** The part of the message worker's cached room facts this worker reads. */
type CachedFacts = { kind: 'private'; members: string[] } | { kind: 'live' | 'missing' };

export function createMembership(ctx: PresenceContext) {
  const { redis, db, keys } = ctx;

  async function members(room: Room): Promise<string[]> {
    const cached = await redis.get(keys.meta(room));
    if (cached) {
      const facts = JSON.parse(cached) as CachedFacts;
      return facts.kind === 'private' ? facts.members : [];
    }
    const row = await db.selectFrom('conversations').select(['user_a', 'user_b']).where('id', '=', room.id ?? '').executeTakeFirst();
    return row ? [row.user_a, row.user_b] : [];
  }

  /** Throws FORBIDDEN unless `userId` is a member of the private room. */
  return async function requireMember(room: Room, userId: string): Promise<void> {
    if (!(await members(room)).includes(userId)) throw new RequestError(ErrorCode.ERROR_CODE_FORBIDDEN, 'not a member of this conversation');
  };
}
