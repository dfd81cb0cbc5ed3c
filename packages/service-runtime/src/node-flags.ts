// V8 flags every service runs with. They must be on the node command line: V8 reads them only at
// start-up and Node refuses them in NODE_OPTIONS (k8s/*.yaml, deploy/Dockerfile, package.json).
//
// --single-threaded-gc: by default V8 scavenges and marks with helper threads, one per core. A
// service pod has a core or two that its own event loop keeps busy, so the helpers only wait
// for CPU while the main thread waits for them: on the 2-core bench machine, gateway and message
// worker pauses of 10–30 ms made sender acks' p99 2–3× worse (24–35 ms instead of 63–122 at 10
// viewers × 500 msg/s) and a 10k connect burst 15–25% slower than with collection on the main
// thread alone.
export const SERVICE_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];

// A gateway's memory per idle socket stays within its 4 KB budget only with a small young
// generation and eager heap shrinking: docs/decisions/0030-gateway-node-flags.md.
export const GATEWAY_NODE_FLAGS: readonly string[] = [...SERVICE_NODE_FLAGS, '--max-semi-space-size=4', '--optimize-for-size'];

/** Which of `flags` this process was started without. */
export function missingNodeFlags(flags: readonly string[]): string[] {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return flags.filter((flag) => !given.includes(flag));
}
