// How a worker answers a failed request: the Error it carries, counted and logged.
import { createDispatcher, type ClientRequest, type RequestHandler } from '@lomi/dispatch';
import { failureOf } from '@lomi/errors';
import { ErrorCode, type ProtocolError } from '@lomi/protocol';
import type { Logger } from '@lomi/service-runtime';
import type { Counter } from 'prom-client';

/**
 * The Error a worker answers a failed request with, counted by operation and code; logged with
 * the client's connection, user and request id when it answers a client command.
 */
export function rejection(ctx: { log: Logger; metrics: { rejected: Counter<'op' | 'code'> } }, op: string, err: unknown, client?: ClientRequest): ProtocolError {
  const error = failureOf(err, client ? ctx.log.child({ ...client, command: op }) : ctx.log);
  ctx.metrics.rejected.inc({ op, code: ErrorCode[error.code] });
  return error;
}

/**
 * A worker's answer to one kind of internal request (decode, answer, encode): the reply carries
 * the answer, or `error` with the Error `rejection` makes of a failure; never throws.
 */
export function replyHandler<Request, Reply extends { error?: unknown }>(
  ctx: Parameters<typeof rejection>[0],
  op: string,
  request: { decode(data: Uint8Array): Request },
  reply: { encode(message: Reply): { finish(): Uint8Array } },
  answer: (request: Request) => Promise<Reply>,
): RequestHandler {
  return createDispatcher({ request, reply, answer, fail: (err) => ({ error: rejection(ctx, op, err) }) as Reply });
}
