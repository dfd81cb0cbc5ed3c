// The embedded durable record (PGlite in a data folder) keeps what it committed across a restart
// of the process's database, with the same migrations as the Postgres server; and concurrent
// transactions of several users of the one PGlite session (every service of the embedded
// process) keep their isolation: each waits its turn instead of interleaving.
import { createDb, migrateToLatest } from '@lomi/db';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';

const dir = mkdtempSync(path.join(tmpdir(), 'lomi-pglite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('what was committed is there after the database is closed and opened again', async () => {
  const url = `pglite:${dir}`;
  const first = createDb(url, 'embedded');
  await migrateToLatest(first, 'embedded');
  await first.insertInto('conversations').values({ id: 'c1', user_a: 'alice', user_b: 'bob' }).execute();
  await first.destroy();

  const again = createDb(url, 'embedded');
  // Migrating again applies nothing: the folder holds the schema and its migrations.
  expect(await migrateToLatest(again, 'embedded')).toEqual([]);
  expect(await again.selectFrom('conversations').select(['id', 'user_a', 'user_b']).execute()).toEqual([{ id: 'c1', user_a: 'alice', user_b: 'bob' }]);
  await again.destroy();
}, 60_000);

test('transactions of two users of one PGlite run one after the other, each seeing only its own writes until commit', async () => {
  const url = 'pglite:memory';
  const [a, b] = [createDb(url, 'isolation'), createDb(url, 'isolation')];
  await sql`create schema if not exists isolation`.execute(a);
  await sql`create table isolation.counter (n int not null)`.execute(a);
  await sql`insert into isolation.counter values (0)`.execute(a);
  // Read-modify-write in each: interleaved on one session they would lose an increment.
  const bump = (db: typeof a) =>
    db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ n: number }>`select n from isolation.counter`.execute(trx);
      await new Promise((r) => setTimeout(r, 20));
      await sql`update isolation.counter set n = ${rows[0]!.n + 1}`.execute(trx);
    });
  await Promise.all([bump(a), bump(b), bump(a), bump(b)]);
  expect((await sql<{ n: number }>`select n from isolation.counter`.execute(b)).rows[0]!.n).toBe(4);
  await Promise.all([a.destroy(), b.destroy()]);
}, 60_000);
