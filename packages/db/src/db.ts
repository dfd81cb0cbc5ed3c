import { Kysely, PostgresDialect, sql } from 'kysely';
import { Pool, types, type CustomTypesConfig } from 'pg';
import { UnreachableError } from '@lomi/errors';
import type { Logger } from '@lomi/service-runtime';
import { createPgliteDb, PGLITE_SCHEME } from './pglite';
import type { Database } from './schema';

// pg returns int8 as a string because it may exceed 2^53. Ours (seqs, counters, coin totals)
// never do, so every reader gets a number; a value that would lose precision fails loudly.
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${text} does not fit a JavaScript number`);
  return n;
}

// (pg-types types every parser as returning any)
const getTypeParser: CustomTypesConfig['getTypeParser'] = (oid, format) =>
  oid === types.builtins.INT8 ? parseInt8 : (types.getTypeParser(oid, format) as (text: string) => unknown);
const typeParsers = { getTypeParser };

/**
 * pg connection settings for `url` whose sessions see only the tables of `schema`: each
 * LOMI_NAMESPACE keeps its rows in a Postgres schema of its own, as it keeps its Redis keys and
 * NATS subjects, so deployments sharing a database never read each other's history. Options
 * already in the URL are kept (pg would let the URL's replace ours).
 */
export function connectionConfig(url: string, schema: string): { connectionString: string; options: string } {
  // Quoted: a namespace may hold '-'. Postgres splits startup options on spaces; namespaces have none.
  const searchPath = `-c search_path="${schema}"`;
  const parsed = new URL(url);
  const given = parsed.searchParams.get('options');
  if (given === null) return { connectionString: url, options: searchPath };
  parsed.searchParams.delete('options');
  return { connectionString: parsed.toString(), options: `${given} ${searchPath}` };
}

/**
 * A Kysely instance over a pg pool whose sessions use the tables of `schema` (see
 * connectionConfig); no connection is opened until the first query. Pass a logger to hear about
 * idle connections that Postgres dropped. A `pglite:<folder>` URL (or `pglite:memory`) gives the
 * process's embedded PGlite instead (pglite.ts).
 */
export function createDb(url: string, schema: string, log?: Logger): Kysely<Database> {
  if (url.startsWith(PGLITE_SCHEME)) return createPgliteDb(url.slice(PGLITE_SCHEME.length), schema);
  const pool = new Pool({
    ...connectionConfig(url, schema),
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
  if (url.startsWith(PGLITE_SCHEME)) return url;
  const parsed = new URL(url);
  if (!parsed.password) return url;
  parsed.password = '***';
  return parsed.toString();
}

/** createDb, then one round trip: an unreachable Postgres is fatal at start, naming the URL. */
export async function connectDb(url: string, schema: string, log?: Logger): Promise<Kysely<Database>> {
  const db = createDb(url, schema, log);
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy();
    throw new UnreachableError(`cannot reach Postgres at ${withoutPassword(url)}: ${(err as Error).message}`, { cause: err });
  }
  return db;
}

/** Drops `schema` and every table in it: for test systems and benchmarks that remove what they wrote. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const db = createDb(url, schema);
  try {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
  } finally {
    await db.destroy();
  }
}
