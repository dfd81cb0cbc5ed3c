// Client commands the gateways route to the moderation workers: pin and unpin (live rooms, by
// the broadcaster, moderators and staff), grant and revoke moderators (by the broadcaster and
// staff), delete, time out, ban and unban (room-actions.ts), report a message (by anyone in
// the room), and block and unblock a user (blocks.ts). Roles come from the moderation state on
// every command; whoever may not is refused FORBIDDEN and nothing changes.
import { createCommandDispatcher } from '@lomi/dispatch';
import { badRequest, RequestError } from '@lomi/errors';
import { randomId, storableText, storableUserId, validRoom } from '@lomi/validation';
import { assertMayActOn, assertMayManageModerators, assertMayModerate } from '@lomi/moderation';
import { chat, ErrorCode, MessageKind, ModeratorScope, RoomKind, type lomi, type Room, type ServerFrame } from '@lomi/protocol';
import type { RoomFacts } from '@lomi/rooms';
import type { ModerationContext } from './context';
import { publishPin } from './pin-updates';
import type { createReports } from './reports';
import type { Blocks } from './blocks';
import type { RoleGrants } from './role-grants';
import type { RoomActions } from './room-actions';
import type { RoomSettingsWriter } from './room-settings';
import type { StoredMessages } from './stored-messages';

const codePoints = (s: string) => [...s].length;

type LiveFacts = Extract<RoomFacts, { kind: 'live' }>;

export interface CommandParts {
  storedMessage: StoredMessages;
  grants: RoleGrants;
  reports: ReturnType<typeof createReports>;
  settings: RoomSettingsWriter;
  actions: RoomActions;
  blocks: Blocks;
}

export function createCommandHandler(ctx: ModerationContext, { storedMessage, grants, reports, settings, actions, blocks }: CommandParts) {
  const { config, rooms, pins, metrics, moderation, audit } = ctx;

  function newText(room: Room, userId: string, text: string): lomi.chat.v1.IChatMessage {
    const content = storableText('text', text).trim();
    if (!content) throw badRequest('text is empty');
    if (codePoints(content) > config.PIN_MAX_LENGTH) {
      throw new RequestError(ErrorCode.ERROR_CODE_TOO_LARGE, `text is longer than ${config.PIN_MAX_LENGTH} characters`);
    }
    // Not a room message: seq 0, an id of its own (the same shape as stored message ids).
    return { room, seq: 0, id: randomId(), senderId: userId, kind: MessageKind.MESSAGE_KIND_TEXT, content, createdAtMs: Date.now() };
  }

  /** The live room of a command and its facts, and the user's role there; `what` names it in refusals. */
  async function liveRoom(userId: string, target: Room | null | undefined, what: string) {
    const room = validRoom(target);
    if (room.kind !== RoomKind.ROOM_KIND_LIVE) throw badRequest(`${what} is for live rooms`);
    const facts = (await rooms.authorize(room, userId, 'join')) as LiveFacts;
    return { room, facts, role: await moderation.roleOf(room, userId, facts) };
  }

  async function pin(userId: string, cmd: lomi.chat.v1.PinMessage): Promise<ServerFrame> {
    const { room, role } = await liveRoom(userId, cmd.room, 'pinning');
    assertMayModerate(role, 'pin');
    const durationS = cmd.durationS || config.PIN_DEFAULT_DURATION_S;
    if (durationS < config.PIN_MIN_DURATION_S || durationS > config.PIN_MAX_DURATION_S) {
      throw badRequest(`duration_s must be ${config.PIN_MIN_DURATION_S}–${config.PIN_MAX_DURATION_S}`);
    }
    let message: lomi.chat.v1.IChatMessage;
    if (cmd.target === 'messageSeq') message = await storedMessage(room, Number(cmd.messageSeq), 'message_seq');
    else if (cmd.target === 'text') message = newText(room, userId, cmd.text ?? '');
    else throw badRequest('a pin needs message_seq or text');
    const now = Date.now();
    const update = chat.Pin.create({ message, pinnedBy: userId, pinnedAtMs: now, expiresAtMs: now + durationS * 1000 });
    await pins.set(room, update);
    metrics.pinChanges.inc({ change: 'pinned' });
    publishPin(ctx, room, update);
    const stored = Number(message.seq) > 0;
    await audit.record({
      action: 'pin',
      actorId: userId,
      room,
      targetUserId: stored ? (message.senderId ?? undefined) : undefined,
      messageSeq: stored ? Number(message.seq) : undefined,
      expiresAt: new Date(now + durationS * 1000),
    });
    return { ok: {} };
  }

  async function unpin(userId: string, cmd: lomi.chat.v1.UnpinMessage): Promise<ServerFrame> {
    const { room, role } = await liveRoom(userId, cmd.room, 'pinning');
    assertMayModerate(role, 'unpin');
    if (await pins.clear(room)) {
      metrics.pinChanges.inc({ change: 'unpinned' });
      publishPin(ctx, room);
      await audit.record({ action: 'unpin', actorId: userId, room });
    }
    return { ok: {} };
  }

  /** GrantModerator / RevokeModerator: the broadcaster and staff, on someone they may act on. */
  async function moderatorGrant(userId: string, cmd: lomi.chat.v1.IGrantModerator, grant: boolean): Promise<ServerFrame> {
    const { room, facts, role } = await liveRoom(userId, cmd.room, 'a moderator');
    assertMayManageModerators(role);
    const target = storableUserId('user_id', cmd.userId ?? '');
    assertMayActOn(role, await moderation.roleOf(room, target, facts));
    const scope = cmd.scope ?? ModeratorScope.MODERATOR_SCOPE_UNSPECIFIED;
    if (!Object.values(ModeratorScope).includes(scope)) throw badRequest('scope must be STREAM or CHANNEL');
    const ref = scope === ModeratorScope.MODERATOR_SCOPE_CHANNEL ? { kind: 'channel' as const, id: facts.broadcasterId } : { kind: 'stream' as const, id: room.id ?? '' };
    await (grant ? grants.grantModerator : grants.revokeModerator)(ref, target, { actorId: userId, room });
    return { ok: {} };
  }

  /** SetRoomSettings: the broadcaster, moderators and staff; the reply carries the full settings. */
  async function setRoomSettings(userId: string, cmd: lomi.chat.v1.ISetRoomSettings): Promise<ServerFrame> {
    const { room, role } = await liveRoom(userId, cmd.room, 'room settings');
    assertMayModerate(role, 'change the room settings');
    return { roomSettings: { room, settings: await settings.change(room, cmd, userId) } };
  }

  /** The command's room (live or private), its facts and the user's role there. */
  async function anyRoom(userId: string, target: Room | null | undefined) {
    const room = validRoom(target);
    const facts = await rooms.authorize(room, userId, 'join');
    return { room, facts, actor: { id: userId, logId: userId, role: await moderation.roleOf(room, userId, facts) } };
  }

  /** TimeoutUser / BanUser / UnbanUser: live rooms, by those who may act on the user. */
  async function sanction(userId: string, cmd: { room?: Room | null }, act: RoomActions['ban']): Promise<ServerFrame> {
    const { room, facts, actor } = await anyRoom(userId, cmd.room);
    await act(actor, room, facts, cmd);
    return { ok: {} };
  }

  return createCommandDispatcher(
    async ({ userId, frame }) => {
      if (!frame) throw badRequest('frame is required');
      if (!userId) throw badRequest('user_id is required');
      switch (frame.command) {
        case 'pin':
          return pin(userId, frame.pin as lomi.chat.v1.PinMessage);
        case 'unpin':
          return unpin(userId, frame.unpin as lomi.chat.v1.UnpinMessage);
        case 'grantModerator':
          return moderatorGrant(userId, frame.grantModerator!, true);
        case 'revokeModerator':
          return moderatorGrant(userId, frame.revokeModerator!, false);
        case 'setRoomSettings':
          return setRoomSettings(userId, frame.setRoomSettings!);
        case 'deleteMessage': {
          const { room, facts, actor } = await anyRoom(userId, frame.deleteMessage?.room);
          await actions.deleteMessage(actor, room, facts, frame.deleteMessage!);
          return { ok: {} };
        }
        case 'timeoutUser':
          return sanction(userId, frame.timeoutUser!, actions.timeout);
        case 'banUser':
          return sanction(userId, frame.banUser!, actions.ban);
        case 'unbanUser':
          return sanction(userId, frame.unbanUser!, actions.unban);
        case 'blockUser':
          await blocks.block(userId, frame.blockUser!);
          return { ok: {} };
        case 'unblockUser':
          await blocks.unblock(userId, frame.unblockUser!);
          return { ok: {} };
        case 'reportMessage':
          await reports.report(userId, frame.reportMessage!);
          return { ok: {} };
        default:
          throw badRequest(`the moderation worker does not handle ${frame.command ?? 'an empty'} command`);
      }
    },
    ctx.reject,
    metrics.commandSeconds,
  );
}
