// The app back end's moderation operations (service API, through a gateway): moderators of a
// stream or a channel, staff, platform bans, and deleting, timing out, banning and unbanning in
// rooms (as staff). The back end is trusted: no role is checked, but
// every change is in the moderation log, with the actor_id it names, if any.
import { createServiceDispatcher } from '@lomi/dispatch';
import { badRequest, RequestError } from '@lomi/errors';
import { storableUserId, validRoom, validRoomId } from '@lomi/validation';
import { ErrorCode, RoomKind, type lomi, type Room } from '@lomi/protocol';
import type { ModerationContext } from './context';
import type { PlatformBans } from './platform-bans';
import type { ModeratorScopeRef, Origin, RoleGrants } from './role-grants';
import { serviceActor, type RoomActions } from './room-actions';
import type { RoomSettingsWriter } from './room-settings';

export interface ServiceParts {
  grants: RoleGrants;
  bans: PlatformBans;
  settings: RoomSettingsWriter;
  actions: RoomActions;
}

export function createServiceHandler(ctx: ModerationContext, { grants, bans, settings, actions }: ServiceParts) {
  const actor = (actorId: string | null | undefined) => (actorId ? storableUserId('actor_id', actorId) : undefined);

  /** The grant's scope: an existing stream, or a channel (any broadcaster id). */
  async function scopeOf(op: lomi.internal.v1.IModeratorGrant): Promise<{ ref: ModeratorScopeRef; origin: Origin }> {
    if (Boolean(op.streamId) === Boolean(op.channelId)) throw badRequest('give exactly one of stream_id and channel_id');
    const actorId = actor(op.actorId);
    if (op.channelId) return { ref: { kind: 'channel', id: storableUserId('channel_id', op.channelId) }, origin: { actorId } };
    const room: Room = { kind: RoomKind.ROOM_KIND_LIVE, id: validRoomId('stream_id', op.streamId) };
    if ((await ctx.rooms.facts(room)).kind !== 'live') throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, 'no such live stream');
    return { ref: { kind: 'stream', id: op.streamId! }, origin: { actorId, room } };
  }

  async function moderator(op: lomi.internal.v1.IModeratorGrant, grant: boolean): Promise<boolean> {
    const userId = storableUserId('user_id', op.userId ?? '');
    const { ref, origin } = await scopeOf(op);
    return (grant ? grants.grantModerator : grants.revokeModerator)(ref, userId, origin);
  }

  async function staff(op: lomi.internal.v1.IStaffGrant, grant: boolean): Promise<boolean> {
    const userId = storableUserId('user_id', op.userId ?? '');
    return (grant ? grants.grantStaff : grants.revokeStaff)(userId, actor(op.actorId));
  }

  /** An existing live stream's settings; refused once it ended, like the moderators' command. */
  async function roomSettings(op: lomi.internal.v1.IRoomSettingsChange): Promise<lomi.internal.v1.IServiceReply> {
    const room: Room = { kind: RoomKind.ROOM_KIND_LIVE, id: validRoomId('stream id', op.streamId) };
    const facts = await ctx.rooms.facts(room);
    if (facts.kind !== 'live') throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, 'no such live stream');
    if (facts.status === 'ended') throw new RequestError(ErrorCode.ERROR_CODE_ROOM_CLOSED, 'the live stream has ended');
    return { roomSettings: await settings.change(room, op.settings ?? {}, actor(op.actorId)) };
  }

  /** Delete, time out, ban or unban in a room that exists, as staff would. */
  async function roomModeration(op: lomi.internal.v1.IRoomModeration): Promise<lomi.internal.v1.IServiceReply> {
    const cmd = op.deleteMessage ?? op.timeoutUser ?? op.banUser ?? op.unbanUser;
    if (!cmd) throw badRequest('room_moderation needs an action');
    const room = validRoom(cmd.room);
    const facts = await ctx.rooms.facts(room);
    if (facts.kind === 'missing') throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, 'no such room');
    const who = serviceActor(actor(op.actorId));
    if (op.deleteMessage) await actions.deleteMessage(who, room, facts, op.deleteMessage);
    else if (op.timeoutUser) await actions.timeout(who, room, facts, op.timeoutUser);
    else if (op.banUser) await actions.ban(who, room, facts, op.banUser);
    else await actions.unban(who, room, facts, op.unbanUser!);
    return { moderationChange: { changed: true } };
  }

  async function answer(request: lomi.internal.v1.ServiceRequest): Promise<lomi.internal.v1.IServiceReply> {
    const changed = async (change: Promise<boolean>) => ({ moderationChange: { changed: await change } });
    switch (request.op) {
      case 'grantModerator':
        return changed(moderator(request.grantModerator!, true));
      case 'revokeModerator':
        return changed(moderator(request.revokeModerator!, false));
      case 'grantStaff':
        return changed(staff(request.grantStaff!, true));
      case 'revokeStaff':
        return changed(staff(request.revokeStaff!, false));
      case 'banUser':
        return changed(bans.ban(request.banUser!));
      case 'unbanUser':
        return changed(bans.unban(request.unbanUser!));
      case 'setRoomSettings':
        return roomSettings(request.setRoomSettings!);
      case 'roomModeration':
        return roomModeration(request.roomModeration!);
      default:
        throw badRequest(`the moderation worker does not handle ${request.op ?? 'an empty'} operation`);
    }
  }

  return createServiceDispatcher(answer, ctx.reject);
}
