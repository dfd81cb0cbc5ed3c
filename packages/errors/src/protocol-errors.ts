// What a failure is: a refusal of the request (RequestError, the requester's to fix), a
// dependency — Redis, Postgres, NATS — that did not answer (UnavailableError, or an error of their
// client libraries recognised here as one: worth a retry), or anything else: a bug here, answered
// INTERNAL and never "retry".
import { ErrorCode, type ProtocolError } from '@lomi/protocol';
import { RequestError } from './errors';
import { isUnavailable } from './unavailable';

/** Where failureOf reports what it could not hand back as a refusal: a pino Logger fits. */
export interface FailureLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** An error code as the HTTP APIs and the metrics spell it: RATE_LIMITED for ERROR_CODE_RATE_LIMITED. */
export function errorCodeName(code: ErrorCode): string {
  return (ErrorCode[code] ?? `ERROR_CODE_${code}`).replace('ERROR_CODE_', '');
}

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.ERROR_CODE_BAD_REQUEST]: 400,
  [ErrorCode.ERROR_CODE_FORBIDDEN]: 403,
  [ErrorCode.ERROR_CODE_NOT_FOUND]: 404,
  [ErrorCode.ERROR_CODE_ROOM_CLOSED]: 409,
  [ErrorCode.ERROR_CODE_RATE_LIMITED]: 429,
  [ErrorCode.ERROR_CODE_UNAVAILABLE]: 503,
};

/** The HTTP status an error code is answered with, by the gateway and the workers' read routes alike; 500 for any other. */
export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code] ?? 500;
}

/**
 * The Error to answer a failed request with: a refusal as it is, UNAVAILABLE for a dependency that
 * did not answer, INTERNAL (logged with its stack) for anything else.
 */
export function failureOf(err: unknown, log: FailureLog): ProtocolError & { code: ErrorCode; message: string } {
  if (err instanceof RequestError) {
    return err.retryAfterMs ? { code: err.code, message: err.message, retryAfterMs: err.retryAfterMs } : { code: err.code, message: err.message };
  }
  if (isUnavailable(err)) {
    log.warn({ err }, 'request failed: a dependency did not answer');
    return { code: ErrorCode.ERROR_CODE_UNAVAILABLE, message: 'temporarily unavailable, retry' };
  }
  log.error({ err }, 'request failed: internal error');
  return { code: ErrorCode.ERROR_CODE_INTERNAL, message: 'internal error' };
}
