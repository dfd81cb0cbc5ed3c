// Browsers: which web origins may call the HTTP API (CORS) and open a WebSocket (the upgrade's
// Origin header), one allowlist for both (CORS_ORIGINS). Native apps send no Origin and are not
// concerned; a request without one is never refused for it.
import type { HttpResponse } from './uws';

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS = 'authorization, content-type';
/** How long a browser may cache a preflight answer. */
const PREFLIGHT_MAX_AGE_S = 600;

export class OriginPolicy {
  /** Whether an allowlist is set at all. */
  readonly configured: boolean;
  private readonly any: boolean;
  private readonly origins: ReadonlySet<string>;

  /** `origins` unset: no allowlist (no CORS headers, any upgrade Origin accepted); "*" allows any origin. */
  constructor(origins: readonly string[] | undefined) {
    this.any = origins?.includes('*') ?? false;
    this.origins = new Set(origins ?? []);
    this.configured = origins !== undefined;
  }

  /** Whether a request with this Origin header ('' when absent) may go on. */
  admits(origin: string): boolean {
    return !this.configured || origin === '' || this.any || this.origins.has(origin);
  }

  /** Writes the CORS headers of an answer to `origin` (nothing unless it is allowed). */
  writeHeaders(res: HttpResponse, origin: string): void {
    if (!this.configured) return;
    // Caches must not serve one origin's answer to another.
    res.writeHeader('vary', 'Origin');
    if (origin && (this.any || this.origins.has(origin))) res.writeHeader('access-control-allow-origin', origin);
  }

  /** Writes the headers of a preflight answer. */
  writePreflightHeaders(res: HttpResponse, origin: string): void {
    this.writeHeaders(res, origin);
    res.writeHeader('access-control-allow-methods', ALLOWED_METHODS);
    res.writeHeader('access-control-allow-headers', ALLOWED_HEADERS);
    res.writeHeader('access-control-max-age', String(PREFLIGHT_MAX_AGE_S));
  }
}
