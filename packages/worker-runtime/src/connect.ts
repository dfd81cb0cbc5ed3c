import { connectBus, type Bus } from '@lomi/bus';
import { closeHotState, connectHotState } from '@lomi/hot-state';
import { connectDb, migrateToLatest } from '@lomi/db';
import type { RoomStores } from '@lomi/rooms';
import type { Logger, OwnedConnections } from '@lomi/service-runtime';

export interface WorkerEnv {
  DATABASE_URL: string;
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: string | undefined;
  NATS_URL: string;
  REQUEST_TIMEOUT_MS: number;
  LOMI_NAMESPACE: string;
  RUN_MIGRATIONS: boolean;
  METRICS_PORT: number;
  LOMI_VERSION: string;
  LOMI_COMMIT?: string;
}

/**
 * What every worker opens at start, in the order its start-up needs them: Postgres (migrated when
 * RUN_MIGRATIONS is set), Redis, then the bus (NATS) — each owned by `connections`, so the bus closes before
 * the stores its handlers use, and a start that fails half way closes what it opened.
 */
export async function connectWorker(name: string, env: WorkerEnv, connections: OwnedConnections, log: Logger): Promise<RoomStores & { bus: Bus }> {
  // The namespace's own Postgres schema, as it has its own Redis keys and NATS subjects.
  const db = connections.own(await connectDb(env.DATABASE_URL, env.LOMI_NAMESPACE, log), (d) => d.destroy());
  if (env.RUN_MIGRATIONS) {
    const applied = await migrateToLatest(db, env.LOMI_NAMESPACE);
    if (applied.length > 0) log.info({ applied }, 'database migrated');
  }
  const hot = connections.own(await connectHotState(env, env.LOMI_NAMESPACE, log), closeHotState);
  const bus = connections.own(await connectBus(env.NATS_URL, name, log, { requestTimeoutMs: env.REQUEST_TIMEOUT_MS }), (b) => b.drain());
  return { db, hot, bus };
}
