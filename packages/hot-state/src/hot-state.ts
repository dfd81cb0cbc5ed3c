// Where the workers keep hot state (history, seqs, presence, caches): Redis, or this process's
// memory for the embedded system. Every store seam takes a HotState and picks its implementation
// from its kind; only those implementations touch Redis or the memory namespace.
import type { Dependency, Logger } from '@lomi/service-runtime';
import type Redis from 'ioredis';
import { createKeys, type Keys } from './keys';
import { dropMemoryNamespace, MEMORY_STATE_SCHEME, memoryNamespace, type MemoryNamespace } from './memory-space';
import { connectRedis, deleteMatching } from './redis';

export type HotState = { kind: 'redis'; redis: Redis; keys: Keys; namespace: string } | { kind: 'memory'; memory: MemoryNamespace; namespace: string };

export function isMemoryUrl(url: string): boolean {
  return url.startsWith(MEMORY_STATE_SCHEME);
}

/** Where the hot state is: REDIS_URL (`memory:` for this process), or the Redis Cluster of REDIS_CLUSTER_NODES. */
export interface HotStateEnv {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: string | undefined;
}

/** Redis (one server or a cluster), or the process's memory state for `memory:` URLs. */
export async function connectHotState(env: HotStateEnv, namespace: string, log: Logger): Promise<HotState> {
  if (isMemoryUrl(env.REDIS_URL) && !env.REDIS_CLUSTER_NODES) return { kind: 'memory', memory: memoryNamespace(env.REDIS_URL, namespace), namespace };
  return { kind: 'redis', redis: await connectRedis(env.REDIS_URL, log, env.REDIS_CLUSTER_NODES), keys: createKeys(namespace), namespace };
}

/** Closes the connection (memory state stays: other services of the process share it). */
export async function closeHotState(state: HotState): Promise<void> {
  if (state.kind === 'redis') await state.redis.quit();
}

/** For readiness: Redis from ioredis's connection state; memory is always up. */
export function hotStateDependency(state: HotState): Dependency {
  if (state.kind === 'memory') return { name: 'memory state', isUp: () => true };
  return { name: 'redis', isUp: () => state.redis.status === 'ready' };
}

/** Removes everything the namespace keeps at `url` (test systems and benchmarks clean up so). */
export async function clearHotState(env: HotStateEnv, namespace: string, log: Logger): Promise<void> {
  if (isMemoryUrl(env.REDIS_URL) && !env.REDIS_CLUSTER_NODES) return dropMemoryNamespace(env.REDIS_URL, namespace);
  const redis = await connectRedis(env.REDIS_URL, log, env.REDIS_CLUSTER_NODES);
  try {
    await deleteMatching(redis, createKeys(namespace).allPattern);
  } finally {
    redis.disconnect();
  }
}
