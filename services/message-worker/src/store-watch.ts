// Notices this worker's room log coming back as another incarnation (Redis: a restart, a
// failover, a new run_id) and tells the gateways (subjects.events.storeReset): every room's seq
// lease there is void, and each room a gateway holds is then checked at once, so its reset
// happens and its clients hear of it without waiting for the room's next send. The append and
// state reads do not rely on this: they compare the incarnation themselves on every call.
import type { Stoppable } from '@lomi/service-runtime';
import type { WorkerContext } from './context';
import type { RoomLog } from './room-log';

export function watchStoreIncarnation(ctx: WorkerContext, roomLog: RoomLog): Stoppable {
  const { bus, subjects, log } = ctx;
  const unwatch = roomLog.watchIncarnation(
    (previous, now) => {
      log.warn({ previous, now }, 'Redis came back as another server; telling the gateways');
      bus.publish(subjects.events.storeReset, new Uint8Array());
    },
    (err) => log.warn({ err }, 'reading the Redis run_id failed'),
  );
  return {
    async stop() {
      unwatch();
    },
  };
}
