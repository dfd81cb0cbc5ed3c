import { SERVICE_NODE_FLAGS } from '@lomi/common';

// What a gateway keeps for long is small (about 1 KB of heap per socket). Its RSS is made of
// the garbage that connects and fan-out leave in V8's young generation, which grows to 3 × 16 MB
// by default and keeps that memory while the gateway is idle, and of old space a connect burst
// grew, handed back only when V8's memory reducer gets round to it. --optimize-for-size (which
// shrinks the heap eagerly) and a 4 MB semi-space hold idle memory per socket near 3 KB instead
// of about 11 KB (10k joined sockets, `pnpm bench`). A 1 MB semi-space saved no more memory
// there and slowed a 10k connect burst by about a tenth with its extra scavenges; 4 MB did not.
// --optimize-for-size has a price too: without it (4 MB semi-space kept) a 10k burst connected
// about 8% faster (4.30 against 4.65 s over 7 alternated pairs, faster in 6) with the gateways
// using less CPU, but its idle memory, 2.1–2.9 KB per socket in 16 of 20 gateway measurements,
// was 3.9–4.1 KB in the other 4 (2.2–2.7 with it), at the edge of the 4 KB budget. The budget wins.
// V8 reads these flags only at start-up, and Node refuses --optimize-for-size in NODE_OPTIONS:
// they belong on the node command line (k8s/gateway.yaml, deploy/Dockerfile).
export const GATEWAY_NODE_FLAGS: readonly string[] = [...SERVICE_NODE_FLAGS, '--max-semi-space-size=4', '--optimize-for-size'];
