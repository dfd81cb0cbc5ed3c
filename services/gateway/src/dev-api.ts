// Development-only HTTP routes for the demo web client (apps/web): a user token for any demo user
// id, and the live stream or private conversation the demo needs, which the app back end creates
// in a real deployment. Registered only with DEV_TOKENS=true, which the config refuses with
// LOMI_ENV=production: anyone who can reach these routes can be any user.
import { failureOf } from '@lomi/errors';
import type { Logger } from '@lomi/service-runtime';
import { userIdProblem } from '@lomi/validation';
import { ErrorCode, type lomi } from '@lomi/protocol';
import { sign } from 'jsonwebtoken';
import { bearerToken, type AuthenticatedUser, type Authenticator } from './auth';
import type { OriginPolicy } from './cors';
import { Reply } from './http-api';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws';
import type { WorkerClient } from './worker-client';

/** How long a demo token lives (MAX_TOKEN_LIFETIME_S permitting). */
const DEV_TOKEN_LIFETIME_S = 3600;

export interface DevApiDeps {
  /** The HS256 secret user tokens are signed with (DEV_TOKENS needs JWT_SECRET). */
  jwtSecret: string;
  maxTokenLifetimeS: number;
  audience?: string;
  issuer?: string;
  authenticate: Authenticator;
  workers: WorkerClient;
  log: Logger;
  origins: OriginPolicy;
}

/** A small JSON object body; both field-name forms (`userId`, `user_id`) are read. */
async function fields(reply: Reply): Promise<(name: string) => string> {
  const raw = await reply.body();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = raw && raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // an unreadable body names no field: refused below as a missing one
  }
  return (name) => {
    const value = body[name] ?? body[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
    return typeof value === 'string' ? value : '';
  };
}

export function registerDevApi(app: TemplatedApp, deps: DevApiDeps): void {
  const lifetimeS = Math.min(DEV_TOKEN_LIFETIME_S, deps.maxTokenLifetimeS);

  app.post('/api/v1/dev/token', (res, req) => {
    const reply = new Reply(res, req, deps.origins);
    void (async () => {
      const userId = (await fields(reply))('userId');
      const problem = userIdProblem(userId);
      if (problem) return reply.error('400 Bad Request', 'BAD_REQUEST', `userId ${problem}`);
      const token = sign({}, deps.jwtSecret, {
        algorithm: 'HS256',
        subject: userId,
        expiresIn: lifetimeS,
        ...(deps.audience ? { audience: deps.audience } : {}),
        ...(deps.issuer ? { issuer: deps.issuer } : {}),
      });
      reply.json('200 OK', { userId, token, expiresInS: lifetimeS });
    })();
  });

  /** A route for the user of the request's bearer token that asks a message worker for something. */
  const asUser = (pattern: string, op: (userId: string, field: (name: string) => string) => lomi.internal.v1.IServiceRequest | string) => {
    app.post(pattern, (res: HttpResponse, req: HttpRequest) => {
      const reply = new Reply(res, req, deps.origins);
      const token = bearerToken(req.getHeader('authorization'));
      void (async () => {
        const field = await fields(reply);
        let user: AuthenticatedUser | undefined;
        try {
          user = token ? deps.authenticate(token) : undefined;
        } catch {
          // refused below
        }
        if (!user) return reply.error('401 Unauthorized', 'UNAUTHORIZED', 'a valid user token is required (Authorization: Bearer <token>)');
        const request = op(user.userId, field);
        if (typeof request === 'string') return reply.error('400 Bad Request', 'BAD_REQUEST', request);
        const result = await deps.workers.service('message', request);
        if (result.error) return reply.errorCode(result.error.code ?? ErrorCode.ERROR_CODE_INTERNAL, result.error.message ?? '');
        reply.json('200 OK', { id: result.conversation?.id ?? result.liveStream?.id ?? '' });
      })().catch((err: unknown) => {
        const { code, message } = failureOf(err, deps.log.child({ route: pattern }));
        reply.errorCode(code, message);
      });
    });
  };

  // The caller starts a live stream of their own: {id} of its room.
  asUser('/api/v1/dev/live', (userId) => ({ createLiveStream: { broadcasterId: userId, id: '' } }));
  // The caller's private conversation with `peerId` (created if new): {id} of its room.
  asUser('/api/v1/dev/conversations', (userId, field) => {
    const peerId = field('peerId');
    const problem = userIdProblem(peerId);
    if (problem) return `peerId ${problem}`;
    if (peerId === userId) return 'peerId must be another user';
    return { createConversation: { userA: userId, userB: peerId } };
  });
}
