import { type Database, type Kysely, sql } from '@lomi/db';

/**
 * Locks one piece of moderation state (a scope's users, a user's platform ban) until `trx` ends
 * and returns a new version for it: changes of the same piece wait for each other, so their
 * versions increase in the order they commit, and a cache or a gateway can drop an older one
 * that arrives late. The namespace is in the lock's name: deployments sharing a database do not
 * wait for each other.
 */
export async function lockedVersion(trx: Kysely<Database>, namespace: string, name: string): Promise<number> {
  await sql`select pg_advisory_xact_lock(hashtext(${`lomi.moderation.${namespace}.${name}`}))`.execute(trx);
  const { rows } = await sql<{ version: number }>`select nextval('moderation_versions') as version`.execute(trx);
  return rows[0]!.version;
}
