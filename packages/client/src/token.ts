// Reads a JWT's expiry without verifying it (the server does that), so the client can refresh a
// token before reconnecting with it: browsers never see the HTTP 401 of a refused upgrade.

/** The token's `exp` in Unix ms, or undefined when it is not a JWT with one. */
export function tokenExpiresAtMs(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
