// Authenticates a WebSocket upgrade from a user JWT. `sub` is the user id. The token may come
// from an Authorization header (native apps), a `token` query parameter, or a
// `lomi.token.<jwt>` Sec-WebSocket-Protocol entry (browsers cannot set headers on WebSockets).
import { createPublicKey, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { verify, type VerifyOptions } from 'jsonwebtoken';
import { userIdProblem } from '@lomi/common';
import { TOKEN_SUBPROTOCOL_PREFIX } from '@lomi/protocol';
import type { GatewayConfig } from './config';

export interface AuthenticatedUser {
  userId: string;
  /** Unix seconds; the socket is closed when the token expires. 0 when the token has no exp. */
  expiresAt: number;
}

export class AuthError extends Error {
  override name = 'AuthError';
}

export interface UpgradeCredentials {
  authorization: string;
  queryToken: string | undefined;
  subprotocols: string[];
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(authorization: string): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
}

export function extractToken(c: UpgradeCredentials): string | undefined {
  const bearer = bearerToken(c.authorization);
  if (bearer) return bearer;
  if (c.queryToken) return c.queryToken;
  const entry = c.subprotocols.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  return entry?.slice(TOKEN_SUBPROTOCOL_PREFIX.length) || undefined;
}

/**
 * Checks a user JWT completely before it returns (throws AuthError). Synchronous on purpose: a
 * WebSocket upgrade is answered before uWS's upgrade callback returns (see gateway.ts), and jose,
 * async only, checks RS256 on the thread pool.
 */
export type Authenticator = (token: string) => AuthenticatedUser;

export function createAuthenticator(config: GatewayConfig): Authenticator {
  const key: KeyObject = config.JWT_SECRET
    ? createSecretKey(Buffer.from(config.JWT_SECRET, 'utf8'))
    : createPublicKey(config.JWT_PUBLIC_KEY as string);
  const options: VerifyOptions & { complete: false } = {
    algorithms: [config.JWT_SECRET ? 'HS256' : 'RS256'],
    audience: config.JWT_AUDIENCE,
    issuer: config.JWT_ISSUER,
    complete: false,
  };
  return (token) => {
    let payload;
    try {
      payload = verify(token, key, options);
    } catch (err) {
      throw new AuthError((err as Error).message);
    }
    if (typeof payload === 'string' || typeof payload.sub !== 'string') throw new AuthError('token has no sub claim');
    // The user id ends up in stored messages (sender, "alice joined"): refused here if unstorable.
    const problem = userIdProblem(payload.sub);
    if (problem) throw new AuthError(`the sub claim (user id) ${problem}`);
    return { userId: payload.sub, expiresAt: payload.exp ?? 0 };
  };
}

/** Constant-time check of the service API token. */
export function isServiceToken(authorization: string, expected: string): boolean {
  const given = bearerToken(authorization);
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
