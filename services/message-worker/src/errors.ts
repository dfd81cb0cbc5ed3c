// Refusals and failures: the shared request helpers of @lomi/common, plus what only this worker
// answers with (RATE_LIMITED carries a retry time).
import { failureOf, RequestError } from '@lomi/common';
import { ErrorCode, type ProtocolError } from '@lomi/protocol';
import type { WorkerContext } from './context';

export { badRequest, decodeRequest, RequestError } from '@lomi/common';

/** Over the sender's rate limit: nothing was stored; the same send may be retried after the wait. */
export class RateLimitedError extends RequestError {
  constructor(readonly retryAfterMs: number) {
    super(ErrorCode.ERROR_CODE_RATE_LIMITED, `too many messages; retry in ${retryAfterMs} ms`);
  }
}

/** The Error to answer a failed request with; counted by operation and code. */
export function rejection(ctx: WorkerContext, op: string, err: unknown): ProtocolError {
  const error = failureOf(err, ctx.log);
  ctx.metrics.rejected.inc({ op, code: ErrorCode[error.code] });
  return err instanceof RateLimitedError ? { ...error, retryAfterMs: err.retryAfterMs } : error;
}
