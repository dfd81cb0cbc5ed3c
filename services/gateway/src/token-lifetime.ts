// Each socket lives as long as its token: TOKEN_EXPIRING_NOTICE_S before the token's exp the
// client is told (a token_expiring push, once per token) so it can send `refresh` — or halfway
// through what is left, for a token with less than twice that left, so that short tokens do not
// make a client refresh at once, again and again — and at exp the
// socket is closed with 4401 whether or not the client sends anything. One timer per socket,
// rearmed by a refresh and cleared when the socket closes.
import { CloseCode, type ServerFrame } from '@lomi/protocol';
import type { Connection } from './connection';

export interface TokenLifetimeDeps {
  noticeS: number;
  send(conn: Connection, frame: ServerFrame): void;
  close(conn: Connection, code: number, reason: string): void;
}

export type TokenLifetime = ReturnType<typeof createTokenLifetime>;

export function createTokenLifetime(deps: TokenLifetimeDeps) {
  function expire(conn: Connection): void {
    conn.tokenTimer = undefined;
    deps.close(conn, CloseCode.AUTH_FAILED, 'token expired');
  }

  function notice(conn: Connection): void {
    const expiresAtMs = conn.tokenExpiresAt * 1000;
    deps.send(conn, { tokenExpiring: { expiresAtMs } });
    conn.tokenTimer = setTimeout(() => expire(conn), Math.max(0, expiresAtMs - Date.now()));
    conn.tokenTimer.unref();
  }

  /** Arms the socket's notice and expiry for its current token. */
  function arm(conn: Connection): void {
    clearTimeout(conn.tokenTimer);
    const leftMs = conn.tokenExpiresAt * 1000 - Date.now();
    const noticeInMs = Math.max(leftMs - deps.noticeS * 1000, leftMs / 2);
    if (noticeInMs <= 0) return notice(conn);
    conn.tokenTimer = setTimeout(() => notice(conn), noticeInMs);
    conn.tokenTimer.unref();
  }

  return {
    opened: arm,
    /** The socket now holds a token expiring at `expiresAt` (Unix seconds). */
    refreshed(conn: Connection, expiresAt: number): void {
      conn.tokenExpiresAt = expiresAt;
      arm(conn);
    },
    closed(conn: Connection): void {
      clearTimeout(conn.tokenTimer);
      conn.tokenTimer = undefined;
    },
  };
}
