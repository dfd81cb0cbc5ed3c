// The seams hold: services and shared packages reach NATS, Redis and Postgres's query builder only
// through the implementations of the seams (README "Architecture"), so the embedded system can
// put its own beside them. Read from the source tree, as a newcomer would look for them.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : sources(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const files = ['services', 'packages'].flatMap((top) =>
  readdirSync(path.join(ROOT, top)).flatMap((name) => {
    const src = path.join(ROOT, top, name, 'src');
    try {
      return sources(src);
    } catch {
      return [];
    }
  }),
);

function importersOf(library: string): string[] {
  const pattern = new RegExp(`from '${library}'`);
  return files.filter((file) => pattern.test(readFileSync(file, 'utf8'))).map((file) => path.relative(ROOT, file));
}

test('the tree is read', () => {
  expect(files.length).toBeGreaterThan(100);
});

test('only the NATS implementation of the bus imports nats', () => {
  expect(importersOf('nats')).toEqual(['packages/bus/src/nats-bus.ts']);
});

test('only Redis implementations of the stores (and the connection they share) import ioredis', () => {
  const allowed = (file: string) => file.endsWith('-redis.ts') || file.startsWith('packages/hot-state/') || file.startsWith('packages/testkit/');
  expect(importersOf('ioredis').filter((file) => !allowed(file))).toEqual([]);
  // And there are such implementations for every store owner.
  expect(importersOf('ioredis').filter((file) => file.endsWith('-redis.ts')).length).toBeGreaterThanOrEqual(10);
});

test('only the durable record package imports kysely; services query through @lomi/db', () => {
  expect(importersOf('kysely').filter((file) => !file.startsWith('packages/db/'))).toEqual([]);
});
