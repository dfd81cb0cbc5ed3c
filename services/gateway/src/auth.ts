// Authenticates a WebSocket upgrade from a user JWT. `sub` is the user id. The token may come
// from an Authorization header (native apps), a `token` query parameter, or a
// `lomi.token.<jwt>` Sec-WebSocket-Protocol entry (browsers cannot set headers on WebSockets).
import { createPublicKey, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { verify, type VerifyOptions } from 'jsonwebtoken';
import { userIdProblem } from '@lomi/validation';
import { TOKEN_SUBPROTOCOL_PREFIX } from '@lomi/protocol';
import type { GatewayConfig } from './config';

export interface AuthenticatedUser {
  userId: string;
  /** Unix seconds; the socket is closed when the token expires. */
  expiresAt: number;
}

/** A user token that is missing, malformed, badly signed, expired or not acceptable here. */
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
 * WebSocket upgrade is answered before uWS's upgrade callback returns (see chat-upgrade.ts), and jose,
 * async only, checks RS256 on the thread pool.
 */
export type Authenticator = (token: string) => AuthenticatedUser;

export function createAuthenticator(config: GatewayConfig): Authenticator {
  const key: KeyObject = config.JWT_SECRET ? createSecretKey(Buffer.from(config.JWT_SECRET, 'utf8')) : createPublicKey(config.JWT_PUBLIC_KEY as string);
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
      throw new AuthError((err as Error).message, { cause: err });
    }
    if (typeof payload === 'string' || typeof payload.sub !== 'string') throw new AuthError('token has no sub claim');
    // The user id ends up in stored messages (sender, "alice joined"): refused here if unstorable.
    const problem = userIdProblem(payload.sub);
    if (problem) throw new AuthError(`the sub claim (user id) ${problem}`);
    // A token that never expires, or lives for months, is a stolen session for as long.
    if (typeof payload.exp !== 'number') throw new AuthError('token has no exp claim; user tokens must expire');
    const now = Math.floor(Date.now() / 1000);
    const lifetime = payload.exp - Math.min(typeof payload.iat === 'number' ? payload.iat : now, now);
    if (lifetime > config.MAX_TOKEN_LIFETIME_S) {
      throw new AuthError(`token lives ${lifetime} s, longer than the ${config.MAX_TOKEN_LIFETIME_S} s accepted (MAX_TOKEN_LIFETIME_S)`);
    }
    return { userId: payload.sub, expiresAt: payload.exp };
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
