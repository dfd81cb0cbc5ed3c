// Errors of the client libraries of Redis, Postgres and NATS that mean the server did not answer,
// recognised here so they are answered UNAVAILABLE (retry) rather than INTERNAL.
import { UnavailableError } from './errors';

// Node's socket errors: nothing listens there, or the network dropped or stalled the connection.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

// Postgres SQLSTATEs of a server that cannot serve now: connection exceptions (class 08),
// insufficient resources (class 53, e.g. 53300 too many connections), shutting down or starting
// (57P01–57P03), a statement cancelled by its timeout (57014), and transactions rolled back by
// concurrency (40001 serialization failure, 40P01 deadlock), which a retry resolves.
const SQLSTATE_CLASSES = ['08', '53'];
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '40001', '40P01']);

// Redis replies of a server that cannot serve now: loading its data, busy in a script, failing
// over, out of memory.
const REDIS_REPLY_PREFIXES = ['LOADING', 'BUSY', 'MASTERDOWN', 'CLUSTERDOWN', 'TRYAGAIN', 'READONLY', 'OOM'];

// Plain Errors the clients throw when the connection is gone (ioredis, pg and pg-pool, kysely).
const CONNECTION_MESSAGES = new Set([
  'Connection is closed.',
  'Command aborted due to connection close',
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Command timed out',
  'connect ETIMEDOUT',
  'Connection terminated',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
  'Query read timeout',
  'driver has already been destroyed',
]);

// Errors are read by shape, not `instanceof Error`: Node's own socket errors may come from another
// realm (a vm context, as under jest) than this module's Error.
type ErrorLike = { name?: unknown; message?: unknown; code?: unknown; severity?: unknown; cause?: unknown };
const isErrorLike = (err: unknown): err is ErrorLike => typeof err === 'object' && err !== null;

/** Postgres' five-character error code of a server error (pg DatabaseError), else undefined. */
export function sqlStateOf(err: unknown): string | undefined {
  if (!isErrorLike(err)) return undefined;
  const { code, severity } = err;
  return typeof code === 'string' && typeof severity === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function isUnavailableOne(err: ErrorLike): boolean {
  if (err instanceof UnavailableError) return true;
  const sqlState = sqlStateOf(err);
  if (sqlState) return SQLSTATE_CLASSES.includes(sqlState.slice(0, 2)) || SQLSTATES.has(sqlState);
  const { code, name } = err;
  const message = typeof err.message === 'string' ? err.message : '';
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
  if (name === 'MaxRetriesPerRequestError') return true;
  if (name === 'ReplyError') return REDIS_REPLY_PREFIXES.some((p) => message.startsWith(`${p} `));
  return CONNECTION_MESSAGES.has(message) || message.startsWith('Socket timeout.');
}

/** Whether `err` (or an error it was caused by) says a dependency did not answer. */
export function isUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; isErrorLike(e) && depth < 8; e = e.cause, depth++) {
    if (isUnavailableOne(e)) return true;
  }
  return false;
}
