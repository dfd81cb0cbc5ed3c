// A worker's side of the bus: its queue group's subscriptions, the requests in hand (so a stop
// answers them before closing), and what runs right after a reply is written.
import type { Bus, BusMessage, BusSubscription } from '@lomi/bus';
import type { RequestHandler } from '@lomi/dispatch';
import type { Logger } from '@lomi/service-runtime';

/** Request/reply subscriptions of one worker to its queue group. */
export interface Responder {
  /** Answers every request on `subject` with what `handle` returns; `handle` must not throw. */
  serve(subject: string, handle: RequestHandler): BusSubscription;
  /** Handles every message on `subject` without replying (published reports and events). */
  consume(subject: string, handle: (data: Uint8Array) => Promise<void>): BusSubscription;
  /** Stops taking requests and waits for those in hand. */
  drain(): Promise<void>;
}

export function createResponder(bus: Bus, queue: string, log: Logger): Responder {
  const inFlight = new Set<Promise<void>>();
  const subscriptions: BusSubscription[] = [];
  const subscribe = (subject: string, handle: (msg: BusMessage) => Promise<void>) => {
    const subscription = bus.subscribe(
      subject,
      (msg) => {
        const done = handle(msg)
          .catch((e: unknown) => log.error({ err: e, subject }, 'handling a request failed'))
          .finally(() => inFlight.delete(done));
        inFlight.add(done);
      },
      { queue },
    );
    subscriptions.push(subscription);
    return subscription;
  };
  return {
    serve: (subject, handle) =>
      subscribe(subject, async (msg) => {
        const actions: (() => void)[] = [];
        const reply = await handle(msg.data, (action) => actions.push(action));
        msg.respond(reply);
        for (const action of actions) action();
      }),
    consume: (subject, handle) => subscribe(subject, (msg) => handle(msg.data)),
    async drain() {
      await Promise.all(subscriptions.map((s) => s.drain()));
      await Promise.all(inFlight);
    },
  };
}
