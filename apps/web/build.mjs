// Bundles the web client into dist/ with esbuild (minified, one script) beside its static files,
// and prints the script's size, minified and gzipped: the SDK is most of it.
import { build } from 'esbuild';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dist = new URL('./dist/', import.meta.url);
rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: [new URL('./src/main.ts', import.meta.url).pathname],
  outfile: new URL('app.js', dist).pathname,
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  platform: 'browser',
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  inject: [new URL('./buffer-shim.js', import.meta.url).pathname],
  logLevel: 'warning',
});
cpSync(new URL('./static/', import.meta.url), dist, { recursive: true });

const script = readFileSync(new URL('app.js', dist));
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
console.log(`web client: dist/app.js ${kb(script.length)} minified, ${kb(gzipSync(script, { level: 9 }).length)} gzip`);
