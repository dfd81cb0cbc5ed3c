import type { Logger } from '@lomi/common';
import { ErrorCode, type ProtocolError } from '@lomi/protocol';
import type { WorkerContext } from './context';

/** A refusal the requester can act on; the message is shown to them. */
export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function badRequest(message: string): RequestError {
  return new RequestError(ErrorCode.ERROR_CODE_BAD_REQUEST, message);
}

// JavaScript's own error classes mean a bug here; anything else was thrown by the Redis or
// Postgres client, and retrying (with the same client_msg_id) is the right response to it.
function isBug(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError;
}

function describe(err: unknown, log: Logger): ProtocolError & { code: ErrorCode } {
  if (err instanceof RequestError) return { code: err.code, message: err.message };
  if (isBug(err)) {
    log.error({ err }, 'request failed');
    return { code: ErrorCode.ERROR_CODE_INTERNAL, message: 'internal error' };
  }
  log.warn({ err }, 'request failed: back end unavailable');
  return { code: ErrorCode.ERROR_CODE_UNAVAILABLE, message: 'temporarily unavailable, retry' };
}

/** The Error to answer a failed request with; counted by operation and code. */
export function rejection(ctx: WorkerContext, op: string, err: unknown): ProtocolError {
  const error = describe(err, ctx.log);
  ctx.metrics.rejected.inc({ op, code: ErrorCode[error.code] });
  return error;
}

/** Decodes a request; bytes that are not one are the requester's mistake, not ours. */
export function decodeRequest<T>(type: { decode(data: Uint8Array): T }, data: Uint8Array): T {
  try {
    return type.decode(data);
  } catch (err) {
    throw badRequest(`undecodable request: ${(err as Error).message}`);
  }
}
