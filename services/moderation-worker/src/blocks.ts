// Users blocking users (private rooms). user_blocks is the record; a change reloads the facts of
// the conversation the two share (if any), which every worker reads for sends (a blocked member's
// send is refused FORBIDDEN, room facts in @lomi/rooms), and the blocker's conversation list
// leaves it out (the message worker's list query). Holds for a conversation created later too:
// its facts are read with the blocks.
import { badRequest } from '@lomi/errors';
import { storableUserId } from '@lomi/validation';
import { RoomKind, type lomi } from '@lomi/protocol';
import { conversationMembers } from '@lomi/rooms';
import type { ModerationContext } from './context';

export type Blocks = ReturnType<typeof createBlocks>;

export function createBlocks(ctx: ModerationContext) {
  const { db, rooms } = ctx;

  /** The other user, checked: a storable id that is not the user's own. */
  function target(userId: string, cmd: lomi.chat.v1.IBlockUser): string {
    const other = storableUserId('user_id', cmd.userId ?? '');
    if (!other) throw badRequest('user_id is required');
    if (other === userId) throw badRequest('you cannot block yourself');
    return other;
  }

  /** Reloads the facts of the conversation of the two users, if they have one. */
  async function refresh(a: string, b: string): Promise<void> {
    const [userA, userB] = conversationMembers(a, b);
    const row = await db.selectFrom('conversations').select('id').where('user_a', '=', userA).where('user_b', '=', userB).executeTakeFirst();
    if (row) await rooms.reload({ kind: RoomKind.ROOM_KIND_PRIVATE, id: row.id });
  }

  return {
    async block(userId: string, cmd: lomi.chat.v1.IBlockUser): Promise<void> {
      const other = target(userId, cmd);
      await db
        .insertInto('user_blocks')
        .values({ blocker_id: userId, blocked_id: other })
        .onConflict((oc) => oc.doNothing())
        .execute();
      await refresh(userId, other);
    },

    async unblock(userId: string, cmd: lomi.chat.v1.IUnblockUser): Promise<void> {
      const other = target(userId, cmd);
      await db.deleteFrom('user_blocks').where('blocker_id', '=', userId).where('blocked_id', '=', other).execute();
      await refresh(userId, other);
    },
  };
}
