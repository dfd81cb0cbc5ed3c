// Client commands forwarded by gateways: join, send, history. Every outcome is a reply frame.
import { chat, ErrorCode, internal, MessageKind, type lomi, type ServerFrame } from '@lomi/protocol';
import type { Append } from './append';
import type { WorkerContext } from './context';
import { badRequest, decodeRequest, rejection, RequestError } from './errors';
import type { History } from './history';
import type { Pager } from './pages';
import { randomId } from './ids';
import { messageBudget, prefixWithin } from './payload';
import { validRoom, type Rooms } from './rooms';

const CLIENT_MSG_ID_MAX = 64;
const GIFT_MAX_COUNT = 9999;

const codePoints = (s: string) => [...s].length;

export function createCommandHandler(ctx: WorkerContext, rooms: Rooms, history: History, page: Pager, append: Append) {
  const { config, nc, subjects } = ctx;

  function publish(message: lomi.chat.v1.ChatMessage): void {
    nc.publish(subjects.room(message.room ?? {}), internal.RoomEvent.encode({ message }).finish());
  }

  async function join(userId: string, cmd: lomi.chat.v1.JoinRoom): Promise<lomi.chat.v1.IJoinReply> {
    const room = validRoom(cmd.room);
    await rooms.authorize(room, userId, 'join');
    const { topSeq, epoch } = await history.top(room);
    const unrecovered = { room, topSeq, epoch, recovered: false };
    const since = cmd.sinceSeq;
    if (since == null || (cmd.epoch && cmd.epoch !== epoch) || since > topSeq) return unrecovered;
    if (topSeq - since > config.RECOVERY_MAX) return unrecovered;
    const messages = await history.read(room, since, topSeq);
    // All or nothing: a client given part of the gap would believe it had all of it.
    if (messages.length !== topSeq - since) return unrecovered;
    if (prefixWithin(messages, messageBudget(nc)).length !== messages.length) return unrecovered;
    return { ...unrecovered, recovered: true, messages };
  }

  function body(cmd: lomi.chat.v1.SendMessage): Pick<lomi.chat.v1.IChatMessage, 'kind' | 'content' | 'gift'> {
    if (cmd.body === 'text') {
      const text = cmd.text?.trim() ?? '';
      if (!text.isWellFormed()) throw badRequest('text is not well-formed Unicode');
      if (!text) throw badRequest('text is empty');
      if (codePoints(text) > config.MAX_MESSAGE_LENGTH) {
        throw new RequestError(ErrorCode.ERROR_CODE_TOO_LARGE, `text is longer than ${config.MAX_MESSAGE_LENGTH} characters`);
      }
      return { kind: MessageKind.MESSAGE_KIND_TEXT, content: text };
    }
    if (cmd.body === 'gift') {
      const giftId = cmd.gift?.giftId ?? '';
      const count = cmd.gift?.count ?? 0;
      const unitValue = Object.hasOwn(config.GIFT_CATALOG, giftId) ? config.GIFT_CATALOG[giftId] : undefined;
      if (unitValue === undefined) throw badRequest('unknown gift');
      if (count < 1 || count > GIFT_MAX_COUNT) throw badRequest(`gift count must be 1–${GIFT_MAX_COUNT}`);
      return { kind: MessageKind.MESSAGE_KIND_GIFT, content: '', gift: { giftId, count, value: count * unitValue } };
    }
    throw badRequest('a message needs text or a gift');
  }

  async function send(userId: string, cmd: lomi.chat.v1.SendMessage): Promise<lomi.chat.v1.ISendAck> {
    const room = validRoom(cmd.room);
    const clientMsgId = cmd.clientMsgId ?? '';
    if (!clientMsgId || codePoints(clientMsgId) > CLIENT_MSG_ID_MAX) throw badRequest(`client_msg_id must be 1–${CLIENT_MSG_ID_MAX} characters`);
    const content = body(cmd);
    await rooms.authorize(room, userId, 'send');
    const message = chat.ChatMessage.create({ room, id: randomId(), senderId: userId, createdAtMs: Date.now(), clientMsgId, ...content });
    const stored = await append(message);
    if (!stored.duplicate) {
      message.seq = stored.seq;
      publish(message);
      return { room, seq: message.seq, id: message.id, createdAtMs: message.createdAtMs, duplicate: false };
    }
    const [original] = await history.read(room, stored.seq - 1, stored.seq);
    // Published again because the first attempt may have died between storing and publishing;
    // gateways drop a seq they already delivered.
    if (original) publish(original);
    return { room, seq: stored.seq, id: original?.id ?? '', createdAtMs: original?.createdAtMs ?? 0, duplicate: true };
  }

  async function getHistory(userId: string, cmd: lomi.chat.v1.GetHistory): Promise<lomi.chat.v1.IHistoryReply> {
    const room = validRoom(cmd.room);
    await rooms.authorize(room, userId, 'history');
    return page(room, cmd);
  }

  async function answer(request: lomi.internal.v1.CommandRequest): Promise<ServerFrame> {
    const { userId, frame } = request;
    if (!frame) throw badRequest('frame is required');
    if (!userId) throw badRequest('user_id is required');
    switch (frame.command) {
      case 'join':
        return { joined: await join(userId, frame.join as lomi.chat.v1.JoinRoom) };
      case 'send':
        return { ack: await send(userId, frame.send as lomi.chat.v1.SendMessage) };
      case 'history':
        return { history: await getHistory(userId, frame.history as lomi.chat.v1.GetHistory) };
      default:
        throw badRequest(`the message worker does not handle ${frame.command ?? 'an empty'} command`);
    }
  }

  /** Decodes a CommandRequest and returns the encoded CommandReply; never throws. */
  return async function handleCommand(data: Uint8Array): Promise<Uint8Array> {
    let requestId = 0;
    let op = 'command';
    let frame: ServerFrame;
    try {
      const request = decodeRequest(internal.CommandRequest, data);
      requestId = request.frame?.requestId ?? 0;
      op = request.frame?.command ?? op;
      frame = await answer(request);
    } catch (err) {
      frame = { error: rejection(ctx, op, err) };
    }
    return internal.CommandReply.encode({ frame: { ...frame, requestId } }).finish();
  };
}
