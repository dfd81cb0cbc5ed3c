// Serves the built web client (apps/web/dist) from WEB_CLIENT_DIR, for development only (the
// config refuses WEB_CLIENT_DIR with LOMI_ENV=production). A request names a file under the
// directory and nothing else: `..`, encoded or not, and symlinks that lead out are answered 404.
import { realpathSync, statSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Reply } from './http-api';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const HEADERS = { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };

/** The file under `root` that `urlPath` names, or undefined when it names none (or lies outside). */
export function resolveUnder(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  if (decoded.endsWith('/')) decoded += 'index.html';
  const file = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
  return file.startsWith(root + path.sep) ? file : undefined;
}

/** A `serveFile` for the HTTP API that answers from `dir`; throws at start if it is not a directory. */
export function staticFiles(dir: string): (reply: Reply, urlPath: string) => void {
  let root: string;
  try {
    root = realpathSync(path.resolve(dir));
    if (!statSync(root).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw new Error(`WEB_CLIENT_DIR ${dir} is not a directory of the built web client (pnpm build): ${(err as Error).message}`, { cause: err });
  }
  const notFound = (reply: Reply) => reply.error('404 Not Found', 'NOT_FOUND', 'no such file');
  return (reply, urlPath) => {
    const file = resolveUnder(root, urlPath);
    if (!file) return notFound(reply);
    void (async () => {
      // A symlink inside may point anywhere: what is read must be under root too.
      const real = await realpath(file);
      if (!real.startsWith(root + path.sep)) return notFound(reply);
      const body = await readFile(real);
      reply.send('200 OK', body, CONTENT_TYPES[path.extname(real)] ?? 'application/octet-stream', HEADERS);
    })().catch(() => notFound(reply));
  };
}
