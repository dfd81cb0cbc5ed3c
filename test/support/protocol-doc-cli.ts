// `pnpm docs:protocol`: starts a system (NATS, Redis and Postgres as the tests use them), performs
// every command over the real wire in the JSON encoding and writes the frames into the example
// blocks of docs/protocol.md. Only the blocks change; the prose around them is written by hand.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { withExamples } from '@lomi/testkit';
import { CAPTURE_ENV, captureProtocolExamples } from './protocol-doc-capture';
import { startSystem } from './system';

const DOC = path.resolve(__dirname, '../../../docs/protocol.md');

async function main(): Promise<void> {
  const system = await startSystem({ env: CAPTURE_ENV });
  let captured;
  try {
    captured = await captureProtocolExamples(system);
  } finally {
    await system.stop();
  }
  const before = readFileSync(DOC, 'utf8');
  const after = withExamples(before, captured);
  writeFileSync(DOC, after);
  console.log(`${path.relative(process.cwd(), DOC)}: ${captured.size} examples written${after === before ? ' (no change)' : ''}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
