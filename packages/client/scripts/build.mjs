// Bundles the SDK for publishing: ESM and CommonJS for bundlers and Node (protobufjs inside, so
// the package has no runtime dependency and never reconfigures an app's own protobufjs), a Node
// entry with the `ws` fallback, and a minified browser build whose size is printed (and kept
// small: a build over BROWSER_GZIP_BUDGET fails).
import { build } from 'esbuild';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';

const BROWSER_GZIP_BUDGET = 30 * 1024;
// protobufjs loads the `long` package when it finds one; the SDK decodes 64-bit integers as plain
// numbers (src/long-config.ts), so it is left out of every build.
const withoutLong = {
  name: 'without-long',
  setup(build) {
    build.onResolve({ filter: /^long$/ }, () => ({ path: 'long', namespace: 'without-long' }));
    build.onLoad({ filter: /.*/, namespace: 'without-long' }, () => ({ contents: 'module.exports = null;' }));
  },
};
const common = { bundle: true, logLevel: 'error', target: 'es2022', sourcemap: true, plugins: [withoutLong] };

await Promise.all([
  build({ ...common, entryPoints: ['src/index.ts'], platform: 'neutral', format: 'esm', outfile: 'dist/index.mjs', mainFields: ['main'] }),
  build({ ...common, entryPoints: ['src/index.ts'], platform: 'neutral', format: 'cjs', outfile: 'dist/index.cjs', mainFields: ['main'] }),
  build({ ...common, entryPoints: ['src/node.ts'], platform: 'node', format: 'esm', outfile: 'dist/node.mjs', external: ['ws'] }),
  build({ ...common, entryPoints: ['src/node.ts'], platform: 'node', format: 'cjs', outfile: 'dist/node.cjs', external: ['ws'] }),
  build({ ...common, entryPoints: ['src/index.ts'], platform: 'browser', format: 'esm', outfile: 'dist/browser.min.mjs', minify: true }),
]);

// @lomi/protocol/socket is bundled into the JavaScript above; its declarations ship beside ours, so
// the published types point at nothing outside the package.
copyFileSync(
  createRequire(import.meta.url)
    .resolve('@lomi/protocol/socket')
    .replace(/\.js$/, '.d.ts'),
  'dist/protocol-socket.d.ts',
);
for (const file of readdirSync('dist').filter((f) => f.endsWith('.d.ts'))) {
  const types = readFileSync(`dist/${file}`, 'utf8');
  const local = types.replace(/(['"])@lomi\/protocol\/socket\1/g, '$1./protocol-socket$1');
  if (local !== types) writeFileSync(`dist/${file}`, local);
}

const browser = readFileSync('dist/browser.min.mjs');
const gzip = gzipSync(browser, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`@lomi/client browser bundle: ${kb(browser.length)} minified, ${kb(gzip)} gzip`);
if (gzip > BROWSER_GZIP_BUDGET) {
  console.error(`the browser bundle is over its budget of ${kb(BROWSER_GZIP_BUDGET)} gzip`);
  process.exit(1);
}
