// Refusals and failures: the shared ones (@lomi/errors, @lomi/dispatch, @lomi/worker-runtime), plus what only this worker
// answers with (RATE_LIMITED carries a retry time).
import { RequestError } from '@lomi/errors';
import { ErrorCode } from '@lomi/protocol';

export { badRequest, RequestError } from '@lomi/errors';
export { rejection, replyHandler } from '@lomi/worker-runtime';

/** Over the sender's rate limit: nothing was stored; the same send may be retried after the wait. */
export class RateLimitedError extends RequestError {
  constructor(retryAfterMs: number) {
    super(ErrorCode.ERROR_CODE_RATE_LIMITED, `too many messages; retry in ${retryAfterMs} ms`, retryAfterMs);
  }
}

/** Slow mode: the sender's previous message in the room was too recent; nothing was stored. */
export class SlowModeError extends RequestError {
  override name = 'SlowModeError';
  constructor(retryAfterMs: number, intervalMs: number) {
    super(ErrorCode.ERROR_CODE_RATE_LIMITED, `slow mode: one message every ${intervalMs / 1000} s; retry in ${retryAfterMs} ms`, retryAfterMs);
  }
}
