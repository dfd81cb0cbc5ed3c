// Client commands forwarded by gateways: send, history, receipts and the conversation list (joins
// come in batches: joins.ts). Every outcome is a reply frame.
import { createCommandDispatcher, type AfterReply } from '@lomi/dispatch';
import { randomId, storableId, storableText } from '@lomi/validation';
import { chat, ErrorCode, internal, MessageKind, RoomKind, type lomi, type ServerFrame } from '@lomi/protocol';
import type { Append } from './append';
import type { WorkerContext } from './context';
import type { Durability } from './durability';
import { badRequest, rejection, RequestError } from './errors';
import type { History } from './history';
import type { Pager } from './pages';
import { otherMember, type ReceiptKind, type Receipts } from './receipts';
import { validRoom, type Rooms } from './rooms';
import type { SendRules } from './send-rules';
import type { OfflineNotifier } from './webhooks';

const CLIENT_MSG_ID_MAX = 64;
const GIFT_MAX_COUNT = 9999;

const codePoints = (s: string) => [...s].length;

export interface CommandParts {
  rooms: Rooms;
  history: History;
  page: Pager;
  append: Append;
  durability: Durability;
  receipts: Receipts;
  listConversations: (userId: string, cmd: lomi.chat.v1.IListConversations) => Promise<lomi.chat.v1.IConversationList>;
  offline: OfflineNotifier;
  /** The sender's limits in the room (rate limit, slow mode). */
  admit: SendRules;
}

export function createCommandHandler(ctx: WorkerContext, parts: CommandParts) {
  const { config, bus, subjects } = ctx;
  const { rooms, history, page, append, durability, receipts, offline, admit } = parts;

  /**
   * Publishes a stored message to its room right behind the sender's ack, in the same NATS
   * write: one syscall for both, and the requesting gateway reads the ack no later than the
   * event (its fan-out waits for the next turn anyway).
   */
  function publishAfterAck(message: lomi.chat.v1.ChatMessage, afterReply: AfterReply): void {
    afterReply(() => {
      try {
        bus.publish(subjects.room(message.room ?? {}), internal.RoomEvent.encode({ message }).finish());
      } catch (err) {
        // Stored and acked: gateways fetch it as a seq gap once the room's next message arrives.
        ctx.log.warn({ err, room: message.room, seq: message.seq }, 'publishing a stored message failed');
      }
    });
  }

  function body(cmd: lomi.chat.v1.SendMessage): Pick<lomi.chat.v1.IChatMessage, 'kind' | 'content' | 'gift'> {
    if (cmd.body === 'text') {
      const text = storableText('text', cmd.text ?? '').trim();
      if (!text) throw badRequest('text is empty');
      if (codePoints(text) > config.MAX_MESSAGE_LENGTH) {
        throw new RequestError(ErrorCode.ERROR_CODE_TOO_LARGE, `text is longer than ${config.MAX_MESSAGE_LENGTH} characters`);
      }
      return { kind: MessageKind.MESSAGE_KIND_TEXT, content: text };
    }
    if (cmd.body === 'gift') {
      const giftId = storableId('gift.gift_id', cmd.gift?.giftId ?? '');
      const count = cmd.gift?.count ?? 0;
      const unitValue = Object.hasOwn(config.GIFT_CATALOG, giftId) ? config.GIFT_CATALOG[giftId] : undefined;
      if (unitValue === undefined) throw badRequest('unknown gift');
      if (count < 1 || count > GIFT_MAX_COUNT) throw badRequest(`gift count must be 1–${GIFT_MAX_COUNT}`);
      return { kind: MessageKind.MESSAGE_KIND_GIFT, content: '', gift: { giftId, count, value: count * unitValue } };
    }
    throw badRequest('a message needs text or a gift');
  }

  async function send(userId: string, cmd: lomi.chat.v1.SendMessage, afterReply: AfterReply): Promise<lomi.chat.v1.ISendAck> {
    const room = validRoom(cmd.room);
    const clientMsgId = storableId('client_msg_id', cmd.clientMsgId ?? '');
    if (!clientMsgId || codePoints(clientMsgId) > CLIENT_MSG_ID_MAX) throw badRequest(`client_msg_id must be 1–${CLIENT_MSG_ID_MAX} characters`);
    const content = body(cmd);
    const message = chat.ChatMessage.create({ room, id: randomId(), senderId: userId, createdAtMs: Date.now(), clientMsgId, ...content });
    const { facts, ...stored } = await append(message, (facts) => admit(message, facts));
    let original: lomi.chat.v1.ChatMessage | undefined;
    if (!stored.duplicate) {
      message.seq = stored.seq;
      const settled = await durability.settle(message);
      if (!settled.duplicate) {
        publishAfterAck(message, afterReply);
        if (facts.kind === 'private') offline.notify(message, otherMember(facts.members, userId));
        return { room, seq: message.seq, id: message.id, createdAtMs: message.createdAtMs, duplicate: false };
      }
      original = settled.message;
    } else {
      original = await durability.original(room, stored.seq);
    }
    // Published again because the first attempt may have died between storing and publishing;
    // gateways drop a seq they already delivered.
    if (original) publishAfterAck(original, afterReply);
    return { room, seq: original?.seq ?? stored.seq, id: original?.id ?? '', createdAtMs: original?.createdAtMs ?? 0, duplicate: true };
  }

  async function getHistory(userId: string, cmd: lomi.chat.v1.GetHistory): Promise<lomi.chat.v1.IHistoryReply> {
    const room = validRoom(cmd.room);
    await rooms.authorize(room, userId, 'history');
    return page(room, cmd);
  }

  /** MarkRead / MarkDelivered: members of a private room move their receipt forward. */
  async function mark(userId: string, kind: ReceiptKind, cmd: lomi.chat.v1.IMarkRead): Promise<lomi.chat.v1.IOk> {
    const room = validRoom(cmd.room);
    if (room.kind !== RoomKind.ROOM_KIND_PRIVATE) throw badRequest('receipts are for private rooms');
    await rooms.authorize(room, userId, 'history');
    // Nothing after the top exists to be read; clamping keeps a receipt from running ahead of it.
    const seq = Math.min(Number(cmd.seq ?? 0), (await history.top(room)).topSeq);
    const receipt = seq > 0 ? await receipts.advance(room, userId, kind, seq) : undefined;
    if (receipt) bus.publish(subjects.room(room), internal.RoomEvent.encode({ receipt }).finish());
    return {};
  }

  async function answer(request: lomi.internal.v1.CommandRequest, afterReply: AfterReply): Promise<ServerFrame> {
    const { userId, frame } = request;
    if (!frame) throw badRequest('frame is required');
    if (!userId) throw badRequest('user_id is required');
    switch (frame.command) {
      case 'send':
        return { ack: await send(userId, frame.send as lomi.chat.v1.SendMessage, afterReply) };
      case 'history':
        return { history: await getHistory(userId, frame.history as lomi.chat.v1.GetHistory) };
      case 'markRead':
        return { ok: await mark(userId, 'read', frame.markRead!) };
      case 'markDelivered':
        return { ok: await mark(userId, 'delivered', frame.markDelivered!) };
      case 'listConversations':
        return { conversations: await parts.listConversations(userId, frame.listConversations!) };
      default:
        throw badRequest(`the message worker does not handle ${frame.command ?? 'an empty'} command`);
    }
  }

  return createCommandDispatcher(answer, (op, err, client) => rejection(ctx, op, err, client), ctx.metrics.commandSeconds);
}
