// Pins end by themselves: a pin past its expiry is never shown (readers filter on it), and this
// sweep, in every moderation worker, removes it and pushes the unpin. Each expired pin is taken
// by exactly one worker (see Pins.takeExpired), so the room gets one push.
import { setTimeout as delay } from 'node:timers/promises';
import type { ModerationContext } from './context';
import { publishPin } from './pin-updates';

const SWEEP_BATCH = 100;

export function startPinExpiry(ctx: ModerationContext): { stop(): Promise<void> } {
  const stopping = new AbortController();
  const running = (async () => {
    while (!stopping.signal.aborted) {
      try {
        let expired;
        do {
          expired = await ctx.pins.takeExpired(SWEEP_BATCH);
          for (const room of expired) publishPin(ctx, room);
          ctx.metrics.pinChanges.inc({ change: 'expired' }, expired.length);
        } while (expired.length === SWEEP_BATCH && !stopping.signal.aborted);
      } catch (err) {
        ctx.log.warn({ err }, 'sweeping expired pins failed; retrying next interval');
      }
      await delay(ctx.config.PIN_SWEEP_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
