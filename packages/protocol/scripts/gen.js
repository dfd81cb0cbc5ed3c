// Generates the static protobuf module from proto/ — the only definition of the wire shapes in
// TypeScript. Regenerated on every build so the output can never drift from the .proto files.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../../..');
const protoDir = path.join(root, 'proto');
const outDir = path.resolve(__dirname, '../generated');
const bin = (name) => path.resolve(__dirname, '../node_modules/.bin', name);

function listProtos(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listProtos(p);
    return e.name.endsWith('.proto') ? [p] : [];
  });
}

const protos = listProtos(protoDir).sort();
fs.mkdirSync(outDir, { recursive: true });
const js = path.join(outDir, 'lomi.js');
// --force-number: seq and timestamps stay plain numbers (safe up to 2^53) instead of Long objects.
execFileSync(bin('pbjs'), ['-t', 'static-module', '-w', 'commonjs', '--force-number', '-p', protoDir, '-o', js, ...protos], { stdio: 'inherit' });
execFileSync(bin('pbts'), ['-o', path.join(outDir, 'lomi.d.ts'), js], { stdio: 'inherit' });
