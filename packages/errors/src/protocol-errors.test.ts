import { ErrorCode } from '@lomi/protocol';
import { InternalError, RequestError, UnavailableError, UnreachableError } from './errors';
import { errorCodeName, failureOf, httpStatusOf } from './protocol-errors';
import { isUnavailable, sqlStateOf } from './unavailable';

function recordingLog() {
  const lines: { level: string; msg: string }[] = [];
  return { lines, warn: (_: object, msg: string) => lines.push({ level: 'warn', msg }), error: (_: object, msg: string) => lines.push({ level: 'error', msg }) };
}

test('each kind of failure is a named class that keeps its cause', () => {
  const cause = new Error('socket hang up');
  expect(new RequestError(ErrorCode.ERROR_CODE_FORBIDDEN, 'no', 0, { cause })).toMatchObject({ name: 'RequestError', cause });
  expect(new UnavailableError('redis', { cause })).toMatchObject({ name: 'UnavailableError', cause });
  expect(new UnreachableError('nats at x')).toBeInstanceOf(UnavailableError);
  expect(new InternalError('bug', { cause })).toMatchObject({ name: 'InternalError', cause });
});

test('a refusal is answered as it is, with its retry time, and not logged', () => {
  const log = recordingLog();
  expect(failureOf(new RequestError(ErrorCode.ERROR_CODE_RATE_LIMITED, 'slow down', 1500), log)).toEqual({
    code: ErrorCode.ERROR_CODE_RATE_LIMITED,
    message: 'slow down',
    retryAfterMs: 1500,
  });
  expect(failureOf(new RequestError(ErrorCode.ERROR_CODE_NOT_FOUND, 'no such room'), log)).toEqual({ code: ErrorCode.ERROR_CODE_NOT_FOUND, message: 'no such room' });
  expect(log.lines).toEqual([]);
});

test('a dependency that did not answer is UNAVAILABLE (retry), logged as a warning', () => {
  const log = recordingLog();
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
  expect(failureOf(new Error('wrapped', { cause: refused }), log)).toEqual({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, message: 'temporarily unavailable, retry' });
  expect(log.lines).toEqual([{ level: 'warn', msg: 'request failed: a dependency did not answer' }]);
});

test('anything else is INTERNAL, never "retry", logged as an error', () => {
  const log = recordingLog();
  for (const err of [new TypeError('x is undefined'), new InternalError('broken'), 'a string', undefined]) {
    expect(failureOf(err, log)).toEqual({ code: ErrorCode.ERROR_CODE_INTERNAL, message: 'internal error' });
  }
  expect(log.lines.every((l) => l.level === 'error')).toBe(true);
});

test('client library errors that mean "the server did not answer" are recognised by shape', () => {
  expect(isUnavailable({ name: 'ReplyError', message: 'LOADING Redis is loading the dataset in memory' })).toBe(true);
  expect(isUnavailable({ name: 'ReplyError', message: 'WRONGTYPE Operation against a key' })).toBe(false);
  expect(isUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
  expect(isUnavailable({ code: '57P01', severity: 'FATAL', message: 'terminating connection' })).toBe(true);
  expect(isUnavailable({ code: '23505', severity: 'ERROR', message: 'duplicate key' })).toBe(false);
  expect(sqlStateOf({ code: '23505', severity: 'ERROR' })).toBe('23505');
  expect(sqlStateOf({ code: 'ECONNRESET' })).toBeUndefined();
});

test('error codes have one HTTP status and one name everywhere', () => {
  expect(httpStatusOf(ErrorCode.ERROR_CODE_BAD_REQUEST)).toBe(400);
  expect(httpStatusOf(ErrorCode.ERROR_CODE_FORBIDDEN)).toBe(403);
  expect(httpStatusOf(ErrorCode.ERROR_CODE_NOT_FOUND)).toBe(404);
  expect(httpStatusOf(ErrorCode.ERROR_CODE_ROOM_CLOSED)).toBe(409);
  expect(httpStatusOf(ErrorCode.ERROR_CODE_RATE_LIMITED)).toBe(429);
  expect(httpStatusOf(ErrorCode.ERROR_CODE_UNAVAILABLE)).toBe(503);
  expect(httpStatusOf(ErrorCode.ERROR_CODE_INTERNAL)).toBe(500);
  expect(errorCodeName(ErrorCode.ERROR_CODE_RATE_LIMITED)).toBe('RATE_LIMITED');
});
