import { badRequest, RequestError } from '@lomi/errors';
import { ErrorCode, internal, type lomi, type Room } from '@lomi/protocol';
import type { ModerationContext } from './context';

export type StoredMessages = ReturnType<typeof createStoredMessages>;

/** Stored messages of a room, asked of the message workers, which own history. */
export function createStoredMessages({ bus, subjects }: ModerationContext) {
  /** Message `seq` of the room (NOT_FOUND if it has none); `field` names the seq in refusals. */
  return async function storedMessage(room: Room, seq: number, field: string): Promise<lomi.chat.v1.IChatMessage> {
    if (!Number.isSafeInteger(seq) || seq < 1) throw badRequest(`${field} must be at least 1`);
    const request = internal.RangeRequest.encode({ room, afterSeq: seq - 1, untilSeq: seq, limit: 1 }).finish();
    const reply = internal.RangeReply.decode(await bus.request(subjects.range, request));
    if (reply.error) throw new RequestError(reply.error.code ?? ErrorCode.ERROR_CODE_UNAVAILABLE, reply.error.message ?? '');
    const found = reply.messages.find((m) => Number(m.seq) === seq);
    if (!found) throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, `no message ${seq} in this room`);
    return found;
  };
}
