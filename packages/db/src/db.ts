import { Kysely, PostgresDialect, sql } from 'kysely';
import { Pool, types, type CustomTypesConfig } from 'pg';
import { UnreachableError, type Logger } from '@lomi/common';
import type { Database } from './schema';

// pg returns int8 as a string because it may exceed 2^53. Ours (seqs, counters, coin totals)
// never do, so every reader gets a number; a value that would lose precision fails loudly.
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${text} does not fit a JavaScript number`);
  return n;
}

const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === types.builtins.INT8 ? parseInt8 : types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

/**
 * A Kysely instance over a pg pool; no connection is opened until the first query.
 * Pass a logger to hear about idle connections that Postgres dropped.
 */
export function createDb(url: string, log?: Logger): Kysely<Database> {
  const pool = new Pool({
    connectionString: url,
    types: typeParsers,
    // Fail a query quickly while Postgres is down, so callers can answer "unavailable".
    connectionTimeoutMillis: 3000,
  });
  // Without a listener, an idle client dropped by a Postgres restart would crash the process.
  pool.on('error', (err) => log?.warn({ err: err.message }, 'Postgres connection problem'));
  // The pool listens only to idle clients. One checked out between two queries (inside a
  // transaction) that loses its connection emits 'error' with no listener, which crashed the
  // worker; the query in hand fails on its own, and the caller retries.
  pool.on('connect', (client) => client.on('error', (err) => log?.warn({ err: err.message }, 'Postgres connection lost')));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

// The URL goes into logs and error messages; its password must not.
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (!parsed.password) return url;
  parsed.password = '***';
  return parsed.toString();
}

/** createDb, then one round trip: an unreachable Postgres is fatal at start, naming the URL. */
export async function connectDb(url: string, log?: Logger): Promise<Kysely<Database>> {
  const db = createDb(url, log);
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy();
    throw new UnreachableError(`cannot reach Postgres at ${withoutPassword(url)}: ${(err as Error).message}`);
  }
  return db;
}
