// `pnpm migrate`: applies pending migrations to the LOMI_NAMESPACE schema of DATABASE_URL and exits.
import { createLogger, parseEnv } from '@lomi/service-runtime';
import { connectDb } from './db';
import { migrateEnv } from './migrate-env';
import { migrateToLatest } from './migrations';

async function main(): Promise<void> {
  const env = parseEnv(migrateEnv);
  const log = createLogger('migrate', env.LOG_LEVEL);
  const db = await connectDb(env.DATABASE_URL, env.LOMI_NAMESPACE, log);
  try {
    const applied = await migrateToLatest(db, env.LOMI_NAMESPACE);
    log.info({ applied, schema: env.LOMI_NAMESPACE }, applied.length ? 'migrations applied' : 'database already up to date');
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
