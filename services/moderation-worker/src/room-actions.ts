// Deleting messages, and timing out, banning and unbanning users in live rooms: by moderators over
// the WebSocket and by the app back end through the service API, one set of rules for both.
// Sanctions are stored here (Postgres room_sanctions, under the room's lock, with their log entry),
// cached in Redis at their version, announced to every reader (RoomSanctionsChanged) and pushed to
// the room (UserSanctioned). Deletions are asked of the message workers, who own history.
import { badRequest, RequestError } from '@lomi/errors';
import { storableUserId } from '@lomi/validation';
import { assertMayActOn, assertMayModerate, loadRoomSanctions } from '@lomi/moderation';
import { ErrorCode, internal, MessageKind, Role, Sanction, type lomi, type Room } from '@lomi/protocol';
import type { RoomFacts } from '@lomi/rooms';
import type { ModerationContext } from './context';
import { reasonText } from './reasons';
import type { StoredMessages } from './stored-messages';
import { lockedVersion } from './versions';

/** Who acts: a user with their role in the room, or the app back end (acting as staff). */
export interface Actor {
  /** The user id, or "service" for the app back end (what deleted_by and moderator_id say). */
  id: string;
  /** For the moderation log: undefined for the app back end without a named actor. */
  logId?: string;
  role: Role;
}

/** The app back end acting through the service API, with the actor it names, if any. */
export const serviceActor = (actorId?: string): Actor => ({ id: actorId || 'service', logId: actorId, role: Role.ROLE_STAFF });

const TIMEOUT_MAX_S = 14 * 86_400;

type Change =
  { sanction: typeof Sanction.SANCTION_TIMEOUT; durationS: number } | { sanction: typeof Sanction.SANCTION_BAN } | { sanction: typeof Sanction.SANCTION_NONE };

export type RoomActions = ReturnType<typeof createRoomActions>;

export function createRoomActions(ctx: ModerationContext, storedMessage: StoredMessages) {
  const { db, bus, subjects, config, audit, moderation, sanctions } = ctx;

  /** Asks the message workers to delete messages; the seqs deleted now. */
  async function tombstone(request: lomi.internal.v1.ITombstoneRequest): Promise<number[]> {
    const encoded = internal.TombstoneRequest.encode(request).finish();
    const reply = internal.TombstoneReply.decode(await bus.request(subjects.tombstones, encoded));
    if (reply.error) throw new RequestError(reply.error.code ?? ErrorCode.ERROR_CODE_UNAVAILABLE, reply.error.message ?? '');
    return reply.seqs.map(Number);
  }

  /** FORBIDDEN unless the actor may act on `target` in the live room. */
  async function assertMayActOnUser(actor: Actor, room: Room, facts: RoomFacts, target: string): Promise<void> {
    assertMayActOn(actor.role, await moderation.roleOf(room, target, facts));
  }

  async function deleteMessage(actor: Actor, room: Room, facts: RoomFacts, cmd: lomi.chat.v1.IDeleteMessage): Promise<void> {
    const reason = reasonText('reason', cmd.reason ?? '', config.REASON_MAX_LENGTH);
    const seq = Number(cmd.seq ?? 0);
    const message = await storedMessage(room, seq, 'seq');
    if (facts.kind === 'private') {
      if (message.senderId !== actor.id && actor.role !== Role.ROLE_STAFF) {
        throw new RequestError(ErrorCode.ERROR_CODE_FORBIDDEN, 'in a private room only the sender may delete a message');
      }
    } else {
      assertMayModerate(actor.role, 'delete messages');
      if (message.senderId !== actor.id && message.kind !== MessageKind.MESSAGE_KIND_SYSTEM) {
        await assertMayActOnUser(actor, room, facts, message.senderId ?? '');
      }
    }
    if (message.deletedBy) return;
    await tombstone({ room, seqs: [seq], deletedBy: actor.id });
    await audit.record({
      action: 'delete_message',
      actorId: actor.logId,
      room,
      targetUserId: message.senderId ?? undefined,
      messageSeq: seq,
      reason: reason || undefined,
    });
  }

  /** Stores the user's new sanction in the live room (or lifts it), then tells every reader and the room. */
  async function sanction(actor: Actor, room: Room, target: string, change: Change, reason: string, clear: boolean): Promise<void> {
    const expiresAt = change.sanction === Sanction.SANCTION_TIMEOUT ? new Date(Date.now() + change.durationS * 1000) : null;
    const streamId = room.id ?? '';
    const { version, current } = await db.transaction().execute(async (trx) => {
      const version = await lockedVersion(trx, config.LOMI_NAMESPACE, `sanctions.${streamId}`);
      if (change.sanction === Sanction.SANCTION_NONE) {
        await trx.deleteFrom('room_sanctions').where('stream_id', '=', streamId).where('user_id', '=', target).execute();
      } else {
        const row = {
          kind: change.sanction === Sanction.SANCTION_BAN ? ('ban' as const) : ('timeout' as const),
          expires_at: expiresAt,
          reason,
          moderator_id: actor.logId ?? null,
        };
        await trx
          .insertInto('room_sanctions')
          .values({ stream_id: streamId, user_id: target, ...row })
          .onConflict((oc) => oc.columns(['stream_id', 'user_id']).doUpdateSet(row))
          .execute();
      }
      const action = change.sanction === Sanction.SANCTION_NONE ? 'unban' : change.sanction === Sanction.SANCTION_BAN ? 'ban' : 'timeout';
      await audit.record({ action, actorId: actor.logId, room, targetUserId: target, reason: reason || undefined, expiresAt: expiresAt ?? undefined }, trx);
      return { version, current: await loadRoomSanctions(trx, room) };
    });
    await sanctions.cache.write(room, version, current);
    sanctions.forget(room);
    bus.publish(subjects.events.roomSanctionsChanged, internal.RoomSanctionsChanged.encode({ room, version }).finish());
    const userSanctioned = { room, userId: target, sanction: change.sanction, expiresAtMs: expiresAt?.getTime() ?? 0, reason, moderatorId: actor.id };
    bus.publish(subjects.room(room), internal.RoomEvent.encode({ userSanctioned }).finish());
    if (clear) await tombstone({ room, senderId: target, deletedBy: actor.id });
  }

  /** The live room's target user, checked against the actor's powers; `what` names the action. */
  async function liveTarget(actor: Actor, room: Room, facts: RoomFacts, userId: string | null | undefined, what: string): Promise<string> {
    if (facts.kind !== 'live') throw badRequest(`${what} is for live rooms`);
    assertMayModerate(actor.role, what);
    const target = storableUserId('user_id', userId ?? '');
    if (!target) throw badRequest('user_id is required');
    await assertMayActOnUser(actor, room, facts, target);
    return target;
  }

  return {
    deleteMessage,

    async timeout(actor: Actor, room: Room, facts: RoomFacts, cmd: lomi.chat.v1.ITimeoutUser): Promise<void> {
      const target = await liveTarget(actor, room, facts, cmd.userId, 'time out users');
      const durationS = cmd.durationS ?? 0;
      if (durationS < 1 || durationS > TIMEOUT_MAX_S) throw badRequest(`duration_s must be 1–${TIMEOUT_MAX_S}`);
      const reason = reasonText('reason', cmd.reason ?? '', config.REASON_MAX_LENGTH);
      await sanction(actor, room, target, { sanction: Sanction.SANCTION_TIMEOUT, durationS }, reason, Boolean(cmd.clearMessages));
    },

    async ban(actor: Actor, room: Room, facts: RoomFacts, cmd: lomi.chat.v1.IBanUser): Promise<void> {
      const target = await liveTarget(actor, room, facts, cmd.userId, 'ban users');
      const reason = reasonText('reason', cmd.reason ?? '', config.REASON_MAX_LENGTH);
      await sanction(actor, room, target, { sanction: Sanction.SANCTION_BAN }, reason, Boolean(cmd.clearMessages));
    },

    async unban(actor: Actor, room: Room, facts: RoomFacts, cmd: lomi.chat.v1.IUnbanUser): Promise<void> {
      const target = await liveTarget(actor, room, facts, cmd.userId, 'unban users');
      await sanction(actor, room, target, { sanction: Sanction.SANCTION_NONE }, '', false);
    },
  };
}
