// Reads a JWT's claims without verifying them (the server does that): its expiry, so the client
// can refresh a token before reconnecting with it (browsers never see the HTTP 401 of a refused
// upgrade), and its subject, the user id, so the client knows which pushes are about itself.

export interface TokenClaims {
  /** `exp` in Unix ms. */
  expiresAtMs?: number;
  /** `sub`: the user id. */
  userId?: string;
}

/** What the token says, or nothing when it is not a JWT. */
export function tokenClaims(token: string): TokenClaims {
  const payload = token.split('.')[1];
  if (!payload) return {};
  try {
    const { exp, sub } = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown; sub?: unknown };
    return { expiresAtMs: typeof exp === 'number' ? exp * 1000 : undefined, userId: typeof sub === 'string' ? sub : undefined };
  } catch {
    return {};
  }
}
