import { commonEnv, databaseEnv, z } from '@lomi/service-runtime';

/** What `pnpm migrate` (migrate-cli.js, the Kubernetes migration Job) reads from its environment. */
export const migrateEnv = z.object({ ...databaseEnv, LOMI_NAMESPACE: commonEnv.LOMI_NAMESPACE, LOG_LEVEL: commonEnv.LOG_LEVEL, LOMI_ENV: commonEnv.LOMI_ENV });
