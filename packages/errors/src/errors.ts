// The kinds of failure, as classes: a refusal of the request (RequestError, the requester's to fix),
// a dependency that did not answer (UnavailableError: worth a retry), and a bug here (InternalError).
import { ErrorCode } from '@lomi/protocol';

/** A refusal the requester can act on; the message is shown to them. */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** For RATE_LIMITED: when the requester may try again. */
    readonly retryAfterMs = 0,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function badRequest(message: string): RequestError {
  return new RequestError(ErrorCode.ERROR_CODE_BAD_REQUEST, message);
}

/** A dependency did not answer: refused, dropped, timed out, or is shutting down. Retrying may work. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Unreachable dependency at start: the message names the URL so the operator knows what to fix. */
export class UnreachableError extends UnavailableError {
  override name = 'UnreachableError';
}

/** A broken invariant of our own code: answered INTERNAL, never "retry". */
export class InternalError extends Error {
  override name = 'InternalError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
