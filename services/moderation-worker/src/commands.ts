// Client commands the gateways route to the moderation workers: pin and unpin, in live rooms, by
// the broadcaster (moderators once they exist). Viewers are refused and nothing changes.
import { badRequest, createCommandDispatcher, randomId, RequestError, storableText, validRoom } from '@lomi/common';
import { chat, ErrorCode, internal, MessageKind, RoomKind, type lomi, type ProtocolError, type Room, type ServerFrame } from '@lomi/protocol';
import type { ModerationContext } from './context';
import { publishPin } from './pin-updates';

const codePoints = (s: string) => [...s].length;

export function createCommandHandler(ctx: ModerationContext, reject: (op: string, err: unknown) => ProtocolError) {
  const { config, nc, subjects, rooms, pins, metrics } = ctx;

  /** A stored message of the room, asked of the message workers, which own history. */
  async function storedMessage(room: Room, seq: number): Promise<lomi.chat.v1.IChatMessage> {
    if (!Number.isSafeInteger(seq) || seq < 1) throw badRequest('message_seq must be at least 1');
    const request = internal.RangeRequest.encode({ room, afterSeq: seq - 1, untilSeq: seq, limit: 1 }).finish();
    const reply = internal.RangeReply.decode((await nc.request(subjects.range, request, { timeout: config.REQUEST_TIMEOUT_MS })).data);
    if (reply.error) throw new RequestError(reply.error.code ?? ErrorCode.ERROR_CODE_UNAVAILABLE, reply.error.message ?? '');
    const found = reply.messages.find((m) => Number(m.seq) === seq);
    if (!found) throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, `no message ${seq} in this room`);
    return found;
  }

  function newText(room: Room, userId: string, text: string): lomi.chat.v1.IChatMessage {
    const content = storableText('text', text).trim();
    if (!content) throw badRequest('text is empty');
    if (codePoints(content) > config.PIN_MAX_LENGTH) {
      throw new RequestError(ErrorCode.ERROR_CODE_TOO_LARGE, `text is longer than ${config.PIN_MAX_LENGTH} characters`);
    }
    // Not a room message: seq 0, an id of its own (the same shape as stored message ids).
    return { room, seq: 0, id: randomId(), senderId: userId, kind: MessageKind.MESSAGE_KIND_TEXT, content, createdAtMs: Date.now() };
  }

  /** The live room of a pin command, once the user is allowed to moderate it. */
  async function moderatedRoom(userId: string, target: Room | null | undefined): Promise<Room> {
    const room = validRoom(target);
    if (room.kind !== RoomKind.ROOM_KIND_LIVE) throw badRequest('pins are for live rooms');
    await rooms.authorize(room, userId, 'moderate');
    return room;
  }

  async function pin(userId: string, cmd: lomi.chat.v1.PinMessage): Promise<ServerFrame> {
    const room = await moderatedRoom(userId, cmd.room);
    const durationS = cmd.durationS || config.PIN_DEFAULT_DURATION_S;
    if (durationS < config.PIN_MIN_DURATION_S || durationS > config.PIN_MAX_DURATION_S) {
      throw badRequest(`duration_s must be ${config.PIN_MIN_DURATION_S}–${config.PIN_MAX_DURATION_S}`);
    }
    let message: lomi.chat.v1.IChatMessage;
    if (cmd.target === 'messageSeq') message = await storedMessage(room, Number(cmd.messageSeq));
    else if (cmd.target === 'text') message = newText(room, userId, cmd.text ?? '');
    else throw badRequest('a pin needs message_seq or text');
    const now = Date.now();
    const update = chat.Pin.create({ message, pinnedBy: userId, pinnedAtMs: now, expiresAtMs: now + durationS * 1000 });
    await pins.set(room, update);
    metrics.pinChanges.inc({ change: 'pinned' });
    publishPin(ctx, room, update);
    return { ok: {} };
  }

  async function unpin(userId: string, cmd: lomi.chat.v1.UnpinMessage): Promise<ServerFrame> {
    const room = await moderatedRoom(userId, cmd.room);
    if (await pins.clear(room)) {
      metrics.pinChanges.inc({ change: 'unpinned' });
      publishPin(ctx, room);
    }
    return { ok: {} };
  }

  return createCommandDispatcher(async ({ userId, frame }) => {
    if (!frame) throw badRequest('frame is required');
    if (!userId) throw badRequest('user_id is required');
    if (frame.command === 'pin') return pin(userId, frame.pin as lomi.chat.v1.PinMessage);
    if (frame.command === 'unpin') return unpin(userId, frame.unpin as lomi.chat.v1.UnpinMessage);
    throw badRequest(`the moderation worker does not handle ${frame.command ?? 'an empty'} command`);
  }, reject, metrics.commandSeconds);
}
