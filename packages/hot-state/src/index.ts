export { clearHotState, closeHotState, connectHotState, hotStateDependency, isMemoryUrl, type HotState, type HotStateEnv } from './hot-state';
export { bySortedSetOrder, dropMemoryNamespace, MEMORY_STATE_SCHEME, MemoryNamespace, memoryNamespace, TtlMap } from './memory-space';
export { createKeys, OUTBOX_SHARDS, outboxShardOf, type Keys } from './keys';
export { connectRedis, crossSlotPipeline, deleteMatching, isCluster, pipelinedPerTurn } from './redis';
