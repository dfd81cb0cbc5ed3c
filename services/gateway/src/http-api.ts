// HTTP beside the WebSocket: health probes for Kubernetes (also on METRICS_PORT, with /metrics),
// and the service API for the app back end (authenticated with the service token, forwarded to
// the workers).
import type { WorkerKind } from '@lomi/bus';
import { errorCodeName, failureOf, httpStatusOf } from '@lomi/errors';
import type { Logger, Readiness } from '@lomi/service-runtime';
import { ErrorCode, illFormedString, internal, ROOM_ID_PATTERN, RoomKind, toJsonOptions, type lomi } from '@lomi/protocol';
import { STATUS_CODES } from 'node:http';
import { bearerToken, isServiceToken, type AuthenticatedUser, type Authenticator } from './auth';
import type { OriginPolicy } from './cors';
import { roomSettingsPatch } from './room-settings-body';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws';
import type { WorkerClient } from './worker-client';

const MAX_BODY_BYTES = 64 * 1024;

/**
 * Read-only routes answered by a worker. Callers authenticate with a user JWT or the service
 * token; the worker decides what that caller may read. Path parameters and the query string
 * (queryParams) reach the worker as `params`.
 */
const READ_ROUTES: { pattern: string; route: string; worker: WorkerKind }[] = [
  { pattern: '/api/v1/live/:id/messages', route: 'live.messages', worker: 'message' },
  { pattern: '/api/v1/conversations/:id/messages', route: 'conversation.messages', worker: 'message' },
  { pattern: '/api/v1/live/:id/viewers', route: 'live.viewers', worker: 'presence' },
  { pattern: '/api/v1/live/:id/gifts', route: 'live.gifts', worker: 'message' },
  { pattern: '/api/v1/live/:id/pinned', route: 'live.pinned', worker: 'moderation' },
  { pattern: '/api/v1/live/:id/moderation-log', route: 'live.moderationLog', worker: 'moderation' },
  { pattern: '/api/v1/reports', route: 'reports', worker: 'moderation' },
];

export interface HttpApiDeps {
  serviceToken: string;
  authenticate: Authenticator;
  workers: WorkerClient;
  log: Logger;
  readiness: Readiness;
  /** Whether a user is banned from the platform: their user tokens are refused here too (403). */
  isBanned(userId: string): boolean;
  /** Answers a GET that no route took, e.g. with a file of the web client (static-files.ts). */
  serveFile?: (reply: Reply, urlPath: string) => void;
  origins: OriginPolicy;
}

/** A response that may be answered later; writes after the client went away are dropped. */
export class Reply {
  private aborted = false;
  private readonly origin: string;
  /** `req` is read at once: uWS invalidates it when the handler returns. */
  constructor(
    private readonly res: HttpResponse,
    req: HttpRequest,
    private readonly origins: OriginPolicy,
  ) {
    this.origin = req.getHeader('origin');
    res.onAborted(() => {
      this.aborted = true;
    });
  }
  send(status: string, body: string | Uint8Array, contentType = 'application/json', headers: Record<string, string> = {}): void {
    if (this.aborted) return;
    this.res.cork(() => {
      this.res.writeStatus(status);
      this.origins.writeHeaders(this.res, this.origin);
      this.res.writeHeader('content-type', contentType);
      for (const [name, value] of Object.entries(headers)) this.res.writeHeader(name, value);
      this.res.end(body);
    });
  }
  json(status: string, value: unknown): void {
    this.send(status, JSON.stringify(value));
  }
  error(status: string, code: string, message: string): void {
    this.json(status, { error: { code, message } });
  }
  /** Answers with the HTTP status of a protocol error code. */
  errorCode(code: ErrorCode, message: string): void {
    const status = httpStatusOf(code);
    this.error(`${status} ${STATUS_CODES[status]}`, errorCodeName(code), message);
  }
  /** Collects the request body, refusing anything larger than MAX_BODY_BYTES. */
  body(): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      this.res.onData((chunk, isLast) => {
        size += chunk.byteLength;
        if (size <= MAX_BODY_BYTES) chunks.push(Buffer.from(chunk.slice(0)));
        if (isLast) resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : undefined);
      });
    });
  }
}

function snakeToCamel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeToCamel);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), snakeToCamel(v)]));
}

/** A query parameter given under both of its names (`after_seq` and `afterSeq`). */
class AmbiguousParameterError extends Error {
  override name = 'AmbiguousParameterError';
}

/**
 * The query string as the workers read it, each parameter under its proto field name
 * (`after_seq`). As in bodies, the lowerCamel JSON name (`afterSeq`) is taken too; a parameter
 * given under both is refused rather than one of them silently dropped.
 */
function queryParams(query: string): Record<string, string> {
  const params: Record<string, string> = {};
  const givenAs = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(query)) {
    const field = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const other = givenAs.get(field);
    if (other !== undefined && other !== name) throw new AmbiguousParameterError(`${field} is given twice, as ${other} and as ${name}`);
    givenAs.set(field, name);
    params[field] = value;
  }
  return params;
}

type ServiceOp = (body: Record<string, unknown>, params: string[]) => lomi.internal.v1.IServiceRequest;
type ServiceWorker = Parameters<WorkerClient['service']>[0];

export function registerHttpApi(app: TemplatedApp, deps: HttpApiDeps): void {
  const { origins } = deps;
  app.get('/healthz', (res, req) => new Reply(res, req, origins).send('200 OK', 'ok\n', 'text/plain'));
  app.get('/readyz', (res, req) => {
    const { ready, text } = deps.readiness.answer();
    new Reply(res, req, origins).send(ready ? '200 OK' : '503 Service Unavailable', text, 'text/plain');
  });

  const service = (pattern: string, op: ServiceOp, successStatus: (r: lomi.internal.v1.ServiceReply) => string, worker: ServiceWorker = 'message') => {
    app.post(pattern, (res: HttpResponse, req: HttpRequest) => {
      const reply = new Reply(res, req, origins);
      const authorization = req.getHeader('authorization');
      const params = [0, 1, 2].map((i) => req.getParameter(i) ?? '');
      void (async () => {
        if (!isServiceToken(authorization, deps.serviceToken)) {
          return reply.error('401 Unauthorized', 'UNAUTHORIZED', 'a valid service token is required (Authorization: Bearer <token>)');
        }
        const raw = await reply.body();
        if (raw === undefined) return reply.error('413 Payload Too Large', 'TOO_LARGE', `body over ${MAX_BODY_BYTES} bytes`);
        let body: Record<string, unknown> = {};
        let illFormed: string | undefined;
        if (raw.length > 0) {
          try {
            const parsed: unknown = JSON.parse(raw.toString('utf8'));
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
            body = snakeToCamel(parsed) as Record<string, unknown>;
            illFormed = illFormedString(parsed);
          } catch {
            return reply.error('400 Bad Request', 'BAD_REQUEST', 'body must be a JSON object');
          }
          if (illFormed) return reply.error('400 Bad Request', 'BAD_REQUEST', illFormed);
        }
        try {
          const result = await deps.workers.service(worker, op(body, params));
          if (result.error) return reply.errorCode(result.error.code ?? ErrorCode.ERROR_CODE_INTERNAL, result.error.message ?? '');
          // The body is the reply's result (conversation, live_stream, moderation_change, room_settings) alone.
          const value: unknown = internal.ServiceReply.toObject(result, { ...toJsonOptions, defaults: true })[result.result ?? ''];
          reply.json(successStatus(result), value);
        } catch (err) {
          // 503 when no worker or NATS answered, 500 (logged with its stack) for a bug.
          const { code, message } = failureOf(err, deps.log.child({ route: pattern }));
          reply.errorCode(code, message);
        }
      })();
    });
  };

  for (const { pattern, route, worker } of READ_ROUTES) {
    const names = [...pattern.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    app.get(pattern, (res, req) => {
      const reply = new Reply(res, req, origins);
      const authorization = req.getHeader('authorization');
      let params: Record<string, string>;
      try {
        params = queryParams(req.getQuery() ?? '');
      } catch (err) {
        if (!(err instanceof AmbiguousParameterError)) throw err;
        return reply.error('400 Bad Request', 'BAD_REQUEST', err.message);
      }
      names.forEach((name, i) => (params[name] = req.getParameter(i) ?? ''));
      void (async () => {
        let caller: { service: boolean; userId: string };
        if (isServiceToken(authorization, deps.serviceToken)) caller = { service: true, userId: '' };
        else {
          const token = bearerToken(authorization);
          let user: AuthenticatedUser | undefined;
          try {
            user = token ? deps.authenticate(token) : undefined;
          } catch {
            // refused below, whatever was wrong with the token
          }
          if (!user) return reply.error('401 Unauthorized', 'UNAUTHORIZED', 'a valid user token or service token is required');
          if (deps.isBanned(user.userId)) return reply.error('403 Forbidden', 'FORBIDDEN', 'this user is banned from the platform');
          caller = { service: false, userId: user.userId };
        }
        const answer = await deps.workers.api(worker, { route, params, ...caller });
        reply.send(`${answer.status} ${STATUS_CODES[answer.status] ?? ''}`, answer.json);
      })().catch((err: unknown) => {
        const { code, message } = failureOf(err, deps.log.child({ route }));
        reply.errorCode(code, message);
      });
    });
  }

  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  // A path id that is not a room id goes on as '': the workers refuse it with their own message.
  const pathId = (id: string | undefined) => (ROOM_ID_PATTERN.test(id ?? '') ? id : '');
  service(
    '/api/v1/conversations',
    (b) => ({ createConversation: { userA: text(b.userA), userB: text(b.userB) } }),
    (r) => (r.conversation?.created ? '201 Created' : '200 OK'),
  );
  service(
    '/api/v1/live',
    (b) => ({ createLiveStream: { broadcasterId: text(b.broadcasterId), id: text(b.id) } }),
    () => '201 Created',
  );
  service(
    '/api/v1/live/:id/end',
    (_b, [id]) => ({ endLiveStream: { id: pathId(id) } }),
    () => '200 OK',
  );

  // Moderation (moderation workers): 200 {changed}, false when it already was so.
  const ok = () => '200 OK';
  const grant = (b: Record<string, unknown>) => ({ userId: text(b.userId), streamId: text(b.streamId), channelId: text(b.channelId), actorId: text(b.actorId) });
  const staff = (b: Record<string, unknown>) => ({ userId: text(b.userId), actorId: text(b.actorId) });
  const ban = (b: Record<string, unknown>) => ({ userId: text(b.userId), reason: text(b.reason), actorId: text(b.actorId) });
  service('/api/v1/moderators/grant', (b) => ({ grantModerator: grant(b) }), ok, 'moderation');
  service('/api/v1/moderators/revoke', (b) => ({ revokeModerator: grant(b) }), ok, 'moderation');
  service('/api/v1/staff/grant', (b) => ({ grantStaff: staff(b) }), ok, 'moderation');
  service('/api/v1/staff/revoke', (b) => ({ revokeStaff: staff(b) }), ok, 'moderation');
  service('/api/v1/platform/ban', (b) => ({ banUser: ban(b) }), ok, 'moderation');
  service('/api/v1/platform/unban', (b) => ({ unbanUser: ban(b) }), ok, 'moderation');
  // Room moderation as staff would do it (room-actions.ts in the moderation worker).
  const liveRoom = (id: string | undefined) => ({ kind: RoomKind.ROOM_KIND_LIVE, id: pathId(id) });
  const moderate = (b: Record<string, unknown>, action: lomi.internal.v1.IRoomModeration) => ({ roomModeration: { actorId: text(b.actorId), ...action } });
  const flag = (v: unknown) => v === true;
  const seqParam = (seq: string | undefined) => (/^\d{1,15}$/.test(seq ?? '') ? Number(seq) : 0);
  for (const [prefix, kind] of [
    ['live', RoomKind.ROOM_KIND_LIVE],
    ['conversations', RoomKind.ROOM_KIND_PRIVATE],
  ] as const) {
    service(
      `/api/v1/${prefix}/:id/messages/:seq/delete`,
      (b, [id, seq]) => moderate(b, { deleteMessage: { room: { kind, id: pathId(id) }, seq: seqParam(seq), reason: text(b.reason) } }),
      ok,
      'moderation',
    );
  }
  service(
    '/api/v1/live/:id/timeout',
    (b, [id]) =>
      moderate(b, {
        timeoutUser: {
          room: liveRoom(id),
          userId: text(b.userId),
          durationS: typeof b.durationS === 'number' && Number.isInteger(b.durationS) && b.durationS > 0 ? Math.min(b.durationS, 0xffffffff) : 0,
          reason: text(b.reason),
          clearMessages: flag(b.clearMessages),
        },
      }),
    ok,
    'moderation',
  );
  service(
    '/api/v1/live/:id/ban',
    (b, [id]) => moderate(b, { banUser: { room: liveRoom(id), userId: text(b.userId), reason: text(b.reason), clearMessages: flag(b.clearMessages) } }),
    ok,
    'moderation',
  );
  service('/api/v1/live/:id/unban', (b, [id]) => moderate(b, { unbanUser: { room: liveRoom(id), userId: text(b.userId) } }), ok, 'moderation');
  service(
    '/api/v1/live/:id/settings',
    (b, [id]) => ({ setRoomSettings: { streamId: pathId(id), settings: roomSettingsPatch(b), actorId: text(b.actorId) } }),
    ok,
    'moderation',
  );

  // A browser's preflight: allowed origins get the methods and headers the API takes.
  app.options('/*', (res, req) => {
    const origin = req.getHeader('origin');
    if (!origins.configured || !origin || !origins.admits(origin)) {
      return new Reply(res, req, origins).error('403 Forbidden', 'FORBIDDEN', 'origin not allowed (CORS_ORIGINS)');
    }
    res.cork(() => {
      res.writeStatus('204 No Content');
      origins.writePreflightHeaders(res, origin);
      res.end();
    });
  });
  app.any('/*', (res, req) => {
    const reply = new Reply(res, req, origins);
    if (deps.serveFile && req.getMethod() === 'get') deps.serveFile(reply, req.getUrl());
    else reply.error('404 Not Found', 'NOT_FOUND', 'no such endpoint');
  });
}
