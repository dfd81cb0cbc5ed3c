// The two implementations of every store seam, for the contract suites in test/contract: each
// case gets a fresh namespace in the local Redis or in this process's memory, as centrifuge's
// broker tests get a fresh broker per case.
import { randomBytes } from 'node:crypto';
import { createLogger } from '@lomi/service-runtime';
import { clearHotState, closeHotState, connectHotState, type HotState } from '@lomi/hot-state';

const log = createLogger('contract', 'silent');

export interface HotStateImplementation {
  name: 'redis' | 'memory';
  url: string;
}

export const hotStateImplementations: HotStateImplementation[] = [
  { name: 'redis', url: process.env.REDIS_URL?.startsWith('redis') ? process.env.REDIS_URL : 'redis://127.0.0.1:6379' },
  { name: 'memory', url: 'memory:contract' },
];

/**
 * Opens `count` connections to one fresh namespace of `impl` (several, as several workers would
 * have); `close` closes them and removes what the namespace holds.
 */
export async function openHotState(impl: HotStateImplementation, count = 1): Promise<{ states: HotState[]; namespace: string; close(): Promise<void> }> {
  const namespace = `contract_${randomBytes(4).toString('hex')}`;
  const states = await Promise.all(Array.from({ length: count }, () => connectHotState({ REDIS_URL: impl.url }, namespace, log)));
  return {
    states,
    namespace,
    async close() {
      await Promise.all(states.map(closeHotState));
      await clearHotState({ REDIS_URL: impl.url }, namespace, log);
    },
  };
}
