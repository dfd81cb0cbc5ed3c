// The endpoints every worker has beside its own: client commands (CommandRequest → CommandReply),
// read-only HTTP calls (ApiRequest → ApiReply: status and JSON body) and service API operations
// (ServiceRequest → ServiceReply). Each worker only writes its own operations.
import type { Histogram } from 'prom-client';
import { errorCodeName, httpStatusOf, RequestError } from '@lomi/errors';
import { ErrorCode, internal, type lomi, type ProtocolError, type ServerFrame } from '@lomi/protocol';
import { storableId } from '@lomi/validation';
import { createDispatcher, type AfterReply, type RequestHandler } from './dispatcher';

export type ApiRoutes = Record<string, (request: lomi.internal.v1.ApiRequest) => Promise<unknown>>;

/**
 * Runs an ApiRequest's route: 200 with the route's value as JSON, or the error's HTTP status with
 * `{error: {code, message}}`. `reject` turns a failure into the Error to answer with (and may count it).
 */
export function createApiDispatcher(routes: ApiRoutes, reject: (op: string, err: unknown) => ProtocolError): RequestHandler {
  return createDispatcher<lomi.internal.v1.ApiRequest, lomi.internal.v1.IApiReply>({
    request: internal.ApiRequest,
    reply: internal.ApiReply,
    async answer(request) {
      const route = Object.hasOwn(routes, request.route) ? routes[request.route] : undefined;
      if (!route) throw new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, `no route ${request.route}`);
      // Path and query parameters: ids, cursors and numbers, never control characters.
      for (const [name, value] of Object.entries(request.params)) storableId(name, value);
      return { status: 200, json: JSON.stringify(await route(request)) };
    },
    fail(err, request) {
      const error = reject(request?.route ?? 'api', err);
      const code = error.code ?? ErrorCode.ERROR_CODE_INTERNAL;
      return { status: httpStatusOf(code), json: JSON.stringify({ error: { code: errorCodeName(code), message: error.message } }) };
    },
  });
}

/** Runs a ServiceRequest (the app back end's operation, forwarded by a gateway): its result, or the error. */
export function createServiceDispatcher(
  answer: (request: lomi.internal.v1.ServiceRequest) => Promise<lomi.internal.v1.IServiceReply>,
  reject: (op: string, err: unknown) => ProtocolError,
): RequestHandler {
  return createDispatcher<lomi.internal.v1.ServiceRequest, lomi.internal.v1.IServiceReply>({
    request: internal.ServiceRequest,
    reply: internal.ServiceReply,
    answer,
    fail: (err, request) => ({ error: reject(request?.op ?? 'service', err) }),
  });
}

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
 * Answers a CommandRequest forwarded by a gateway: the CommandReply carries the reply frame (or
 * the error frame) with the request's request_id; `seconds` times it by command and outcome.
 */
export function createCommandDispatcher(
  answer: (request: lomi.internal.v1.CommandRequest, afterReply: AfterReply) => Promise<ServerFrame>,
  reject: (op: string, err: unknown, client?: ClientRequest) => ProtocolError,
  seconds: Histogram<'command' | 'outcome'>,
): RequestHandler {
  const requestIdOf = (request: lomi.internal.v1.CommandRequest | undefined) => request?.frame?.requestId ?? 0;
  const opOf = (request: lomi.internal.v1.CommandRequest | undefined) => request?.frame?.command ?? 'command';
  return createDispatcher<lomi.internal.v1.CommandRequest, lomi.internal.v1.ICommandReply & { frame: ServerFrame }>({
    request: internal.CommandRequest,
    reply: internal.CommandReply,
    answer: async (request, afterReply) => ({ frame: { ...(await answer(request, afterReply)), requestId: requestIdOf(request) } }),
    fail(err, request) {
      const client = request && { connectionId: request.connectionId, userId: request.userId, requestId: requestIdOf(request) };
      return { frame: { error: reject(opOf(request), err, client), requestId: requestIdOf(request) } };
    },
    observe: (reply, request, elapsed) => seconds.observe({ command: opOf(request), outcome: reply.frame.error ? 'error' : 'ok' }, elapsed),
  });
}
