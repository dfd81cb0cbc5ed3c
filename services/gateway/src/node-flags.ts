// What a gateway keeps for long is small (about 1 KB of heap per socket). Its RSS is made of
// the garbage that connects and fan-out leave in V8's young generation, which grows to 3 × 16 MB
// by default and keeps that memory while the gateway is idle. A 1 MB semi-space holds idle
// memory per socket under 3 KB instead of about 11 KB (10k joined sockets, `pnpm bench`), for
// more frequent but short scavenges: little survives them. V8 reads the flag only at start-up,
// so it belongs on the node command line (k8s/gateway.yaml, deploy/Dockerfile) or NODE_OPTIONS.
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** The gateway flags this process was started without. */
export function missingNodeFlags(): string[] {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return GATEWAY_NODE_FLAGS.filter((flag) => !given.includes(flag));
}
