import { missingNodeFlags, SERVICE_NODE_FLAGS } from './node-flags';

/** A running service: stopping it finishes work in hand and closes its connections. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * The life cycle every service's main.ts shares: start, stop cleanly on SIGTERM/SIGINT (what
 * Kubernetes sends before it kills a pod), and exit non-zero with a one-line reason when the
 * start fails (bad config, unreachable server). Warns when node was started without the
 * service's `nodeFlags` (node-flags.ts).
 */
export function runService(name: string, start: () => Promise<Stoppable>, nodeFlags: readonly string[] = SERVICE_NODE_FLAGS): void {
  const missing = missingNodeFlags(nodeFlags);
  if (missing.length > 0) console.warn(`${name}: node was started without ${missing.join(' ')}; see @lomi/service-runtime node-flags.ts`);
  Promise.resolve()
    .then(start)
    .then(
      (service) => {
        const shutdown = () => {
          service.stop().then(
            () => process.exit(0),
            (err: unknown) => {
              console.error(`${name} did not stop cleanly: ${err instanceof Error ? err.message : String(err)}`);
              process.exit(1);
            },
          );
        };
        process.once('SIGTERM', shutdown);
        process.once('SIGINT', shutdown);
      },
      (err: unknown) => {
        console.error(`${name} failed to start: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
}
