// How a gateway goes away without a storm. Closing every socket in the same instant sends all of
// its clients to the other gateways at once, each rejoining and recovering in the same second.
// So a stopping gateway first keeps serving while its readiness says 503 (load balancers and
// Kubernetes endpoints stop sending it new clients), then closes its sockets with 4000
// ("reconnect and recover") one by one at random moments spread over a window.

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface DrainTiming {
  /** Wait before the first close. */
  delayMs: number;
  /** The closes are spread over this long, each at a uniformly random moment of it. */
  windowMs: number;
}

/**
 * Waits `delayMs`, then calls `close` for each of `items` (read then: they can only have become
 * fewer) at a random moment of the next `windowMs`. With no items at all it returns at once.
 */
export async function closeSpread<T>(items: () => T[], close: (item: T) => void, timing: DrainTiming): Promise<void> {
  if (items().length === 0) return;
  await sleep(timing.delayMs);
  const due = items()
    .map((item) => ({ item, at: Math.random() * timing.windowMs }))
    .sort((a, b) => a.at - b.at);
  const start = performance.now();
  let next = 0;
  while (next < due.length) {
    const elapsed = performance.now() - start;
    while (next < due.length && due[next]!.at <= elapsed) close(due[next++]!.item);
    if (next < due.length) await sleep(due[next]!.at - elapsed);
  }
}
