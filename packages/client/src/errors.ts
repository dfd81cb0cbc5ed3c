// What can go wrong with a command, as classes an app can tell apart with `instanceof`: the
// server's refusals (one class per ErrorCode, all LomiError with the code) and the client's own.
import { ErrorCode, type lomi } from './protocol';

/** Who has to act: the client (fix the request, wait), a retry (unavailable), or the operator (internal). */
export type ErrorKind = 'client' | 'unavailable' | 'internal';

/** An error frame from the server. `code` is the ErrorCode; `retryAfterMs` is set for rate limits and timeouts. */
export class LomiError extends Error {
  override name = 'LomiError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs = 0,
    readonly kind: ErrorKind = 'client',
  ) {
    super(`${ErrorCode[code] ?? `ERROR_CODE_${code}`}: ${message}`);
  }
}

export class BadRequestError extends LomiError {
  override name = 'BadRequestError';
}
/** Not allowed for this user, e.g. not a member of the private room, not a moderator. */
export class ForbiddenError extends LomiError {
  override name = 'ForbiddenError';
}
export class NotFoundError extends LomiError {
  override name = 'NotFoundError';
}
/** The command needs the room joined first. */
export class NotJoinedError extends LomiError {
  override name = 'NotJoinedError';
}
/** The live stream has ended. */
export class RoomClosedError extends LomiError {
  override name = 'RoomClosedError';
}
/** Sent too fast: try again after `retryAfterMs`. */
export class RateLimitedError extends LomiError {
  override name = 'RateLimitedError';
}
/** The content (or the whole frame) is over the server's limit. */
export class TooLargeError extends LomiError {
  override name = 'TooLargeError';
}
/** The server cannot do it now: retrying later (with the same clientMsgId for a send) is safe. */
export class UnavailableError extends LomiError {
  override name = 'UnavailableError';
}
export class InternalError extends LomiError {
  override name = 'InternalError';
}
/** Too many rooms for this connection or user, or another configured limit. */
export class LimitExceededError extends LomiError {
  override name = 'LimitExceededError';
}
/** A refreshed token was refused. */
export class InvalidTokenError extends LomiError {
  override name = 'InvalidTokenError';
}
/** Banned from this live room (BanUser): sends and joins are refused until a moderator lifts it. Do not retry. */
export class BannedError extends LomiError {
  override name = 'BannedError';
}
/** Timed out in this live room (TimeoutUser): sends are refused for `retryAfterMs` more. */
export class TimedOutError extends LomiError {
  override name = 'TimedOutError';
}
/** The text contains a term the room's word filter blocks. */
export class BlockedTermError extends LomiError {
  override name = 'BlockedTermError';
}

type LomiErrorClass = new (code: ErrorCode, message: string, retryAfterMs?: number, kind?: ErrorKind) => LomiError;

const CLASSES = new Map<number, [LomiErrorClass, ErrorKind]>([
  [ErrorCode.ERROR_CODE_BAD_REQUEST, [BadRequestError, 'client']],
  [ErrorCode.ERROR_CODE_FORBIDDEN, [ForbiddenError, 'client']],
  [ErrorCode.ERROR_CODE_NOT_FOUND, [NotFoundError, 'client']],
  [ErrorCode.ERROR_CODE_NOT_JOINED, [NotJoinedError, 'client']],
  [ErrorCode.ERROR_CODE_ROOM_CLOSED, [RoomClosedError, 'client']],
  [ErrorCode.ERROR_CODE_RATE_LIMITED, [RateLimitedError, 'client']],
  [ErrorCode.ERROR_CODE_TOO_LARGE, [TooLargeError, 'client']],
  [ErrorCode.ERROR_CODE_UNAVAILABLE, [UnavailableError, 'unavailable']],
  [ErrorCode.ERROR_CODE_INTERNAL, [InternalError, 'internal']],
  [ErrorCode.ERROR_CODE_LIMIT_EXCEEDED, [LimitExceededError, 'client']],
  [ErrorCode.ERROR_CODE_BANNED, [BannedError, 'client']],
  [ErrorCode.ERROR_CODE_TIMED_OUT, [TimedOutError, 'client']],
  [ErrorCode.ERROR_CODE_BLOCKED_TERM, [BlockedTermError, 'client']],
  [ErrorCode.ERROR_CODE_INVALID_TOKEN, [InvalidTokenError, 'client']],
]);

/** The error class for an error frame; a code this SDK does not know stays a plain LomiError. */
export function fromErrorFrame(e: lomi.chat.v1.IError): LomiError {
  const code = e.code ?? ErrorCode.ERROR_CODE_UNSPECIFIED;
  const [Class, kind] = CLASSES.get(code) ?? [LomiError, 'client' as const];
  return new Class(code, e.message ?? '', e.retryAfterMs ?? 0, kind);
}

/** The connection is not open (reconnecting): the command was not sent. Only sends wait for it, in the outbox. */
export class DisconnectedError extends Error {
  override name = 'DisconnectedError';
  constructor(message = 'disconnected; reconnecting') {
    super(message);
  }
}

/** The client is closed for good (by the app, or by the server with a terminal close code). */
export class ClientClosedError extends Error {
  override name = 'ClientClosedError';
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`connection is closed (${code}${reason ? ` ${reason}` : ''})`);
  }
}

/** No reply within the request timeout. A send may still have been stored: resend it with the same clientMsgId. */
export class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError';
}

/**
 * A send was not acked within its `sendTimeoutMs` (waiting in the outbox included) and left the
 * outbox. If it had gone out it may still have been stored: resending with the same
 * clientMsgId is safe (stored once, acked as a duplicate).
 */
export class SendTimeoutError extends RequestTimeoutError {
  override name = 'SendTimeoutError';
  constructor(
    readonly clientMsgId: string,
    readonly timeoutMs: number,
  ) {
    super(`send ${clientMsgId} was not acked within ${timeoutMs} ms`);
  }
}

/** The outbox already holds its maximum of unsent messages. */
export class OutboxFullError extends Error {
  override name = 'OutboxFullError';
  constructor(readonly limit: number) {
    super(`the outbox already holds ${limit} unsent messages`);
  }
}
