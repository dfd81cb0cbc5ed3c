// What a test needs of the app back end's side of a system, whether its services run in the
// test process (test/support/system.ts) or as child processes (topology.ts): user tokens and the
// service API.
import { RoomKind, type Room } from '@lomi/protocol';
import { SignJWT } from 'jose';

export interface TokenClaims {
  expiresIn?: string | number;
  /** Signs with another secret than the system's (a forged token). */
  secret?: string;
  audience?: string;
}

/** An HS256 user JWT for `userId` (the `sub`). */
export function signUserToken(secret: string, userId: string, claims: TokenClaims = {}): Promise<string> {
  let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt();
  jwt = jwt.setExpirationTime(claims.expiresIn ?? '1h');
  if (claims.audience) jwt = jwt.setAudience(claims.audience);
  return jwt.sign(Buffer.from(claims.secret ?? secret, 'utf8'));
}

export type ServiceApi = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

/** Calls the service API of the gateway at `baseUrl()` (http://host:port) with the service token. */
export function serviceApi(baseUrl: () => string, serviceToken: string): ServiceApi {
  return async (method, path, body) => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // non-JSON bodies (plain-text errors) are returned as text
    }
    return { status: res.status, body: parsed };
  };
}

export async function createLiveRoom(api: ServiceApi, broadcasterId: string): Promise<Room> {
  const res = await api('POST', '/api/v1/live', { broadcasterId });
  if (res.status !== 201) throw new Error(`create live stream: ${res.status} ${JSON.stringify(res.body)}`);
  return { kind: RoomKind.ROOM_KIND_LIVE, id: res.body.id };
}

export async function createPrivateRoom(api: ServiceApi, userA: string, userB: string): Promise<Room> {
  const res = await api('POST', '/api/v1/conversations', { userA, userB });
  if (res.status !== 201 && res.status !== 200) throw new Error(`create conversation: ${res.status} ${JSON.stringify(res.body)}`);
  return { kind: RoomKind.ROOM_KIND_PRIVATE, id: res.body.id };
}
