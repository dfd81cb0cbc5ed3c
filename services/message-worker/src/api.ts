// Read-only HTTP calls forwarded by gateways (ApiRequest → ApiReply with a JSON body). Called
// with the service token the app back end may read any room; a user reads what they may join.
import { chat, ErrorCode, internal, RoomKind, type lomi, type Room } from '@lomi/protocol';
import type { WorkerContext } from './context';
import { decodeRequest, rejection, RequestError } from './errors';
import type { Pager } from './pages';
import { validRoom, type Rooms } from './rooms';

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.ERROR_CODE_BAD_REQUEST]: 400,
  [ErrorCode.ERROR_CODE_FORBIDDEN]: 403,
  [ErrorCode.ERROR_CODE_NOT_FOUND]: 404,
  [ErrorCode.ERROR_CODE_UNAVAILABLE]: 503,
};

const optionalNumber = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RequestError(ErrorCode.ERROR_CODE_BAD_REQUEST, `${name} must be a whole number`);
  return n;
};

export function createApiHandler(ctx: WorkerContext, rooms: Rooms, page: Pager) {
  async function authorize(room: Room, request: lomi.internal.v1.ApiRequest): Promise<void> {
    if (!request.service) return rooms.authorize(room, request.userId, 'history');
    if ((await rooms.facts(room)).kind === 'missing') throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, 'no such room');
  }

  async function messages(kind: RoomKind, request: lomi.internal.v1.ApiRequest): Promise<unknown> {
    const room = validRoom({ kind, id: request.params.id });
    await authorize(room, request);
    const reply = await page(room, {
      afterSeq: optionalNumber(request.params.after_seq, 'after_seq'),
      beforeSeq: optionalNumber(request.params.before_seq, 'before_seq'),
      limit: optionalNumber(request.params.limit, 'limit'),
    });
    return chat.HistoryReply.toObject(chat.HistoryReply.create(reply), { longs: Number, enums: String });
  }

  const routes: Record<string, (request: lomi.internal.v1.ApiRequest) => Promise<unknown>> = {
    'live.messages': (r) => messages(RoomKind.ROOM_KIND_LIVE, r),
    'conversation.messages': (r) => messages(RoomKind.ROOM_KIND_PRIVATE, r),
  };

  return async function handleApi(data: Uint8Array): Promise<Uint8Array> {
    let reply: lomi.internal.v1.IApiReply;
    let op = 'api';
    try {
      const request = decodeRequest(internal.ApiRequest, data);
      op = request.route;
      const route = routes[request.route];
      if (!route) throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, `no route ${request.route}`);
      reply = { status: 200, json: JSON.stringify(await route(request)) };
    } catch (err) {
      const error = rejection(ctx, op, err);
      const code = error.code ?? ErrorCode.ERROR_CODE_INTERNAL;
      reply = {
        status: HTTP_STATUS[code] ?? 500,
        json: JSON.stringify({ error: { code: ErrorCode[code].replace('ERROR_CODE_', ''), message: error.message } }),
      };
    }
    return internal.ApiReply.encode(reply).finish();
  };
}
