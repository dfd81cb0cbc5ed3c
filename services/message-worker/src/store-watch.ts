// Notices this worker's Redis coming back as another server (a restart, a failover: a new run_id)
// and tells the gateways (subjects.events.storeReset): every room's seq lease there is void, and
// each room a gateway holds is then checked at once, so its reset happens and its clients hear of
// it without waiting for the room's next send. The append and state scripts do not rely on this:
// they compare the run_id themselves on every call.
import type { Stoppable } from '@lomi/common';
import type { WorkerContext } from './context';

export function watchStoreIncarnation(ctx: WorkerContext): Stoppable {
  const { redis, bus, subjects, log } = ctx;
  let known: string | undefined;

  async function check(): Promise<void> {
    const runId = /run_id:(\w+)/.exec(await redis.info('server'))?.[1];
    if (!runId) return;
    if (known !== undefined && runId !== known) {
      log.warn({ previous: known, now: runId }, 'Redis came back as another server; telling the gateways');
      bus.publish(subjects.events.storeReset, new Uint8Array());
    }
    known = runId;
  }
  const onReady = () => void check().catch((err: unknown) => log.warn({ err }, 'reading the Redis run_id failed'));
  redis.on('ready', onReady);
  onReady();

  return {
    async stop() {
      redis.off('ready', onReady);
    },
  };
}
