// The durable record inside one process, for the embedded mode: PGlite (Postgres compiled to
// WASM) in a data folder, with the same migrations and queries as a Postgres server. PGlite is a
// single session, so every Kysely instance of a process shares one per folder, and a query or
// transaction holds it until done (a mutex); the session's search_path follows whoever holds it.
import { PGlite, types } from '@electric-sql/pglite';
import {
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from 'kysely';
import type { Database } from './schema';

/** The URL scheme that selects PGlite: `pglite:<data folder>`, or `pglite:memory` for none. */
export const PGLITE_SCHEME = 'pglite:';

interface Session {
  pg: PGlite;
  /** Resolves when the holder before the last one in line is done. */
  tail: Promise<void>;
  schema: string | undefined;
  users: number;
}

const sessions = new Map<string, Session>();

function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${text} does not fit a JavaScript number`);
  return n;
}

function open(dataDir: string): Session {
  let session = sessions.get(dataDir);
  if (!session) {
    const pg = new PGlite(dataDir === 'memory' ? undefined : dataDir, { parsers: { [types.INT8]: parseInt8 } });
    session = { pg, tail: pg.waitReady, schema: undefined, users: 0 };
    sessions.set(dataDir, session);
  }
  session.users++;
  return session;
}

class PgliteConnection implements DatabaseConnection {
  constructor(private readonly pg: PGlite) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.pg.query<R>(query.sql, [...query.parameters]);
    const command = query.sql.trimStart().slice(0, 6).toLowerCase();
    const writes = command === 'insert' || command === 'update' || command === 'delete';
    return { rows: result.rows, ...(writes ? { numAffectedRows: BigInt(result.affectedRows ?? 0) } : {}) };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite does not stream query results');
  }
}

class PgliteDriver implements Driver {
  private session: Session | undefined;
  private readonly releases = new Map<DatabaseConnection, () => void>();

  constructor(
    private readonly dataDir: string,
    private readonly schema: string,
  ) {}

  async init(): Promise<void> {
    this.session = open(this.dataDir);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const session = this.session!;
    const before = session.tail;
    let release!: () => void;
    session.tail = new Promise<void>((resolve) => (release = resolve));
    await before;
    if (session.schema !== this.schema) {
      await session.pg.query(`set search_path to "${this.schema}"`);
      session.schema = this.schema;
    }
    const connection = new PgliteConnection(session.pg);
    this.releases.set(connection, release);
    return connection;
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.releases.get(connection)?.();
    this.releases.delete(connection);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async destroy(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session || --session.users > 0) return;
    sessions.delete(this.dataDir);
    await session.tail;
    await session.pg.close();
  }
}

/** A Kysely instance over the process's PGlite of `dataDir` whose queries use the tables of `schema`. */
export function createPgliteDb(dataDir: string, schema: string): Kysely<Database> {
  const dialect: Dialect = {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new PgliteDriver(dataDir, schema),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
  return new Kysely<Database>({ dialect });
}
