// What every worker does with a request from the bus: validate it, turn a failure into the Error the requester can
// act on (failures.ts), and frame the answer: a CommandReply for a client command, an ApiReply
// (status and JSON body) for a read-only HTTP call. Shared so that each worker only writes its
// own operations.
import type { Histogram } from 'prom-client';
import { ErrorCode, internal, ROOM_ID_PATTERN, RoomKind, type lomi, type ProtocolError, type Room, type ServerFrame } from '@lomi/protocol';
import { badRequest, errorCodeName, RequestError } from './failures';
import { storableId } from './text';

/** Decodes a request; bytes that are not one are the requester's mistake, not ours. */
export function decodeRequest<T>(type: { decode(data: Uint8Array): T }, data: Uint8Array): T {
  try {
    return type.decode(data);
  } catch (err) {
    throw badRequest(`undecodable request: ${(err as Error).message}`);
  }
}

/** The room of a request, checked and stripped of anything but kind and id. */
export function validRoom(room: Room | null | undefined): Room {
  if (!room) throw badRequest('room is required');
  if (room.kind !== RoomKind.ROOM_KIND_LIVE && room.kind !== RoomKind.ROOM_KIND_PRIVATE) {
    throw badRequest('room kind must be LIVE or PRIVATE');
  }
  if (!ROOM_ID_PATTERN.test(room.id ?? '')) throw badRequest('room id must be 1–64 characters of A-Z a-z 0-9 _ -');
  return { kind: room.kind, id: room.id };
}

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.ERROR_CODE_BAD_REQUEST]: 400,
  [ErrorCode.ERROR_CODE_FORBIDDEN]: 403,
  [ErrorCode.ERROR_CODE_NOT_FOUND]: 404,
  [ErrorCode.ERROR_CODE_UNAVAILABLE]: 503,
};

export type ApiRoutes = Record<string, (request: lomi.internal.v1.ApiRequest) => Promise<unknown>>;

/**
 * Decodes an ApiRequest, runs its route and returns the encoded ApiReply (200 with the route's
 * value as JSON, or the error's HTTP status with `{error: {code, message}}`); never throws.
 * `reject` turns a failure into the Error to answer with (and may count it).
 */
export function createApiDispatcher(routes: ApiRoutes, reject: (op: string, err: unknown) => ProtocolError) {
  return async function handleApi(data: Uint8Array): Promise<Uint8Array> {
    let reply: lomi.internal.v1.IApiReply;
    let op = 'api';
    try {
      const request = decodeRequest(internal.ApiRequest, data);
      op = request.route;
      const route = Object.hasOwn(routes, request.route) ? routes[request.route] : undefined;
      if (!route) throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, `no route ${request.route}`);
      // Path and query parameters: ids, cursors and numbers, never control characters.
      for (const [name, value] of Object.entries(request.params)) storableId(name, value);
      reply = { status: 200, json: JSON.stringify(await route(request)) };
    } catch (err) {
      const error = reject(op, err);
      const code = error.code ?? ErrorCode.ERROR_CODE_INTERNAL;
      reply = {
        status: HTTP_STATUS[code] ?? 500,
        json: JSON.stringify({ error: { code: errorCodeName(code), message: error.message } }),
      };
    }
    return internal.ApiReply.encode(reply).finish();
  };
}

/**
 * Decodes a ServiceRequest (the app back end's operation, forwarded by a gateway), runs it and
 * returns the encoded ServiceReply (its result, or the error); never throws.
 */
export function createServiceDispatcher(
  answer: (request: lomi.internal.v1.ServiceRequest) => Promise<lomi.internal.v1.IServiceReply>,
  reject: (op: string, err: unknown) => ProtocolError,
) {
  return async function handleService(data: Uint8Array): Promise<Uint8Array> {
    let reply: lomi.internal.v1.IServiceReply;
    let op = 'service';
    try {
      const request = decodeRequest(internal.ServiceRequest, data);
      op = request.op ?? op;
      reply = await answer(request);
    } catch (err) {
      reply = { error: reject(op, err) };
    }
    return internal.ServiceReply.encode(reply).finish();
  };
}

/**
 * Registers an action to run right after the reply is handed to NATS, in the same turn: what it
 * publishes leaves in the reply's write, behind the reply. It must not throw.
 */
export type AfterReply = (action: () => void) => void;

/**
 * Who asked, for the worker's log lines about a client command: the same ids the gateway logs,
 * so one request can be followed from the socket to the worker.
 */
export interface ClientRequest {
  connectionId: string;
  userId: string;
  requestId: number;
}

/**
 * Decodes a CommandRequest forwarded by a gateway, answers it and returns the encoded
 * CommandReply carrying the reply frame (or the error frame) with the request's request_id;
 * never throws.
 */
export function createCommandDispatcher(
  answer: (request: lomi.internal.v1.CommandRequest, afterReply: AfterReply) => Promise<ServerFrame>,
  reject: (op: string, err: unknown, client?: ClientRequest) => ProtocolError,
  seconds: Histogram<'command' | 'outcome'>,
) {
  return async function handleCommand(data: Uint8Array, afterReply: AfterReply): Promise<Uint8Array> {
    const started = performance.now();
    let requestId = 0;
    let op = 'command';
    let client: ClientRequest | undefined;
    let frame: ServerFrame;
    try {
      const request = decodeRequest(internal.CommandRequest, data);
      requestId = request.frame?.requestId ?? 0;
      op = request.frame?.command ?? op;
      client = { connectionId: request.connectionId, userId: request.userId, requestId };
      frame = await answer(request, afterReply);
    } catch (err) {
      frame = { error: reject(op, err, client) };
    }
    seconds.observe({ command: op, outcome: frame.error ? 'error' : 'ok' }, (performance.now() - started) / 1000);
    return internal.CommandReply.encode({ frame: { ...frame, requestId } }).finish();
  };
}
