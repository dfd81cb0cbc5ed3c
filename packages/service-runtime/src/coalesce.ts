// Work that many requests for one room ask for at once — 10,000 viewers joining a stream that
// just started all read its top seq, pin and facts — is done once per burst instead of once
// per request.
//
// A run starts on the event loop's next turn after its first caller, and every caller for
// the same key that arrives before it starts shares it. So a shared run never starts before
// any of its callers called: a join's top seq is still read after its request arrived (the
// gateway's subscription to the room already exists by then), and an outbox marking still
// follows the append it marks. Callers arriving once it has started get the next run.

let turnEnd: Promise<void> | undefined;
/**
 * Resolves once the current event-loop turn's I/O has been handled (setImmediate), the same
 * promise for every caller of the turn: work gathered until then goes out together.
 */
export function endOfTurn(): Promise<void> {
  turnEnd ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      turnEnd = undefined;
      resolve();
    }),
  );
  return turnEnd;
}

/** `run`, with calls of one key that arrive before their run starts sharing it. */
export function coalescing<A, V>(keyOf: (arg: A) => string, run: (arg: A) => Promise<V>): (arg: A) => Promise<V> {
  const waiting = new Map<string, Promise<V>>();
  return (arg) => {
    const key = keyOf(arg);
    let shared = waiting.get(key);
    if (!shared) {
      shared = endOfTurn().then(() => {
        waiting.delete(key);
        return run(arg);
      });
      waiting.set(key, shared);
    }
    return shared;
  };
}
