// Generates the static protobuf modules from proto/ — the only definition of the wire shapes in
// TypeScript. Regenerated on every build so the output can never drift from the .proto files.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../../..');
const protoDir = path.join(root, 'proto');
const bin = (name) => path.resolve(__dirname, '../node_modules/.bin', name);

function listProtos(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listProtos(p);
    return e.name.endsWith('.proto') ? [p] : [];
  });
}

function generate(js, protos, extra) {
  fs.mkdirSync(path.dirname(js), { recursive: true });
  // --force-number: seq and timestamps stay plain numbers (safe up to 2^53) instead of Long objects.
  execFileSync(bin('pbjs'), ['-t', 'static-module', '-w', 'commonjs', '--force-number', ...extra, '-p', protoDir, '-o', js, ...protos], { stdio: 'inherit' });
  execFileSync(bin('pbts'), ['-o', js.replace(/\.js$/, '.d.ts'), js], { stdio: 'inherit' });
}

// Every proto, for the servers.
generate(path.resolve(__dirname, '../generated/lomi.js'), listProtos(protoDir).sort(), []);
// The public protocol alone, for the SDK (packages/client), which is published and runs in
// browsers: no internal bus messages, and a protobuf root of its own so that loading both
// modules in one process (the tests do) never mixes their types. It only encodes ClientFrame
// and decodes ServerFrame, so verify/delimited/type-url helpers are left out to keep it small.
generate(path.resolve(root, 'packages/client/generated/chat.js'), [path.join(protoDir, 'lomi/chat/v1/chat.proto')], [
  '-r',
  'lomi_client',
  '--no-verify',
  '--no-delimited',
  '--no-typeurl',
]);
