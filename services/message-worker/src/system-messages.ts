// SYSTEM messages asked for by the presence workers ("alice joined"): stored through the same
// append as any message, so they get a seq, reach Postgres and are replayed on recovery, then
// published to the room like any other.
import { chat, internal, MessageKind, RoomKind, type lomi } from '@lomi/protocol';
import { randomId, storableId, storableText } from '@lomi/validation';
import type { Append } from './append';
import type { WorkerContext } from './context';
import type { Durability } from './durability';
import { badRequest, replyHandler } from './errors';
import { validRoom } from './rooms';

/** System messages have no user as sender. */
const SYSTEM_SENDER = '';

export function createSystemMessageHandler(ctx: WorkerContext, append: Append, durability: Durability) {
  const { bus, subjects } = ctx;

  async function store(request: lomi.internal.v1.SystemMessageRequest): Promise<number> {
    const room = validRoom(request.room);
    if (room.kind !== RoomKind.ROOM_KIND_LIVE) throw badRequest('system messages are for live rooms');
    if (!request.content || !request.clientMsgId) throw badRequest('content and client_msg_id are required');
    const message = chat.ChatMessage.create({
      room,
      id: randomId(),
      senderId: SYSTEM_SENDER,
      kind: MessageKind.MESSAGE_KIND_SYSTEM,
      // "<user id> joined": refused, and only this announcement lost, if the id cannot be stored.
      content: storableText('content', request.content),
      createdAtMs: Date.now(),
      clientMsgId: storableId('client_msg_id', request.clientMsgId),
    });
    // Authorised as a send: the stream must exist and be live.
    const stored = await append(message);
    // A retried request was stored (and published) by the first attempt; in strict mode it must
    // be in Postgres before this one is answered too.
    if (stored.duplicate) return (await durability.original(room, stored.seq))?.seq ?? stored.seq;
    message.seq = stored.seq;
    const settled = await durability.settle(message);
    if (settled.duplicate) return settled.message.seq;
    bus.publish(subjects.room(room), internal.RoomEvent.encode({ message }).finish());
    return stored.seq;
  }

  return replyHandler(ctx, 'system_message', internal.SystemMessageRequest, internal.SystemMessageReply, async (request: lomi.internal.v1.SystemMessageRequest) => ({
    seq: await store(request),
  }));
}
