// A TCP proxy between a client and a gateway that a test can break the ways networks break:
// cut (connections reset, new ones refused), deaf (the client's bytes still arrive, the server's
// answers vanish) and silent (nothing passes either way, nothing is closed: a dead NAT entry).
import { createServer, connect, type Server, type Socket } from 'node:net';

export type ProxyMode = 'forward' | 'cut' | 'deaf' | 'silent';

export interface TcpProxy {
  port: number;
  /** ws://127.0.0.1:<port> */
  url: string;
  /** How live and new connections behave from now on; `cut` also resets every live one. */
  set(mode: ProxyMode): void;
  /** Connections accepted so far. */
  readonly accepted: number;
  stop(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  let accepted = 0;
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    accepted += 1;
    if (mode === 'cut') return void client.resetAndDestroy();
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => {
      if (mode === 'forward' || mode === 'deaf') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (mode === 'forward') client.write(chunk);
    });
    for (const s of pair) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    set(next) {
      mode = next;
      if (next !== 'cut') return;
      for (const [client, upstream] of pairs) {
        client.resetAndDestroy();
        upstream.destroy();
      }
    },
    async stop() {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
