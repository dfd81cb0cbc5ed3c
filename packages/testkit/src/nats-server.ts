// nats-server processes of a test's own (owned-server.ts), alone or routed into a cluster.
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './ports';
import { makeTempDir, ProcessServer, startOrCleanup, timeoutsOf, withFields, type OwnedServer, type StartOptions } from './owned-server';
import { probe } from './probe';

export type NatsServer = OwnedServer & {
  readonly url: string;
  /** With `monitor`: the server's HTTP monitoring (e.g. `${monitorUrl}/subsz`). */
  readonly monitorUrl?: string;
};

export interface NatsOptions extends StartOptions {
  /** Enable JetStream with its store in the server's temp dir. */
  jetstream?: boolean;
  /** Serve the HTTP monitoring endpoints on a free port (NatsServer.monitorUrl). */
  monitor?: boolean;
  /** Join a cluster: this node's route port and every node's (its own included). */
  cluster?: { name: string; port: number; routes: number[] };
}

export const NATS_SERVER_BIN = '/usr/sbin/nats-server';

let natsCounter = 0;

/** nats-server on 127.0.0.1:<free port>; `url` is `nats://127.0.0.1:<port>`. */
export async function startNatsServer(opts: NatsOptions = {}): Promise<NatsServer> {
  if (!fs.existsSync(NATS_SERVER_BIN)) {
    throw new Error(`${NATS_SERVER_BIN} not found (apt-get install -y nats-server)`);
  }
  const dir = makeTempDir('lomi-nats');
  // A unique name lets the probe tell our server from whatever else may hold the port.
  const serverName = `lomi-test-${process.pid}-${++natsCounter}-${path.basename(dir)}`;
  const monitorPort = opts.monitor ? await freePort() : 0;
  const server = new ProcessServer(
    {
      name: 'nats-server',
      command: NATS_SERVER_BIN,
      args: (port) => [
        '-a',
        '127.0.0.1',
        '-p',
        String(port),
        '-n',
        serverName,
        ...(opts.jetstream ? ['-js', '-sd', path.join(dir, 'jetstream')] : []),
        ...(monitorPort ? ['-m', String(monitorPort)] : []),
        ...(opts.cluster
          ? [
              '--cluster_name',
              opts.cluster.name,
              '--cluster',
              `nats://127.0.0.1:${opts.cluster.port}`,
              '--routes',
              opts.cluster.routes
                .filter((r) => r !== opts.cluster!.port)
                .map((r) => `nats://127.0.0.1:${r}`)
                .join(','),
            ]
          : []),
      ],
      cwd: dir,
      stopSignal: 'SIGTERM',
      ready: (port) => natsReady(port, serverName),
      ...timeoutsOf(opts),
    },
    dir,
  );
  await startOrCleanup(server);
  return withFields(server, { url: `nats://127.0.0.1:${server.port}`, ...(monitorPort ? { monitorUrl: `http://127.0.0.1:${monitorPort}` } : {}) });
}

/** `size` NATS servers routed to each other as one cluster (no JetStream); each keeps its ports across restarts. */
export async function startNatsCluster(size = 3, opts: StartOptions & { monitor?: boolean } = {}): Promise<NatsServer[]> {
  const routes: number[] = [];
  for (let i = 0; i < size; i++) routes.push(await freePort());
  const name = `lomi-cluster-${process.pid}-${++natsCounter}`;
  const started = await Promise.allSettled(routes.map((port) => startNatsServer({ ...opts, cluster: { name, port, routes } })));
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((n) => n.dispose()));
    throw failed.reason;
  }
  return nodes;
}

function natsReady(port: number, serverName: string): Promise<boolean> {
  let sentPing = false;
  return probe(
    { host: '127.0.0.1', port },
    () => undefined,
    (buf, sock) => {
      const text = buf.toString('utf8');
      const eol = text.indexOf('\r\n');
      if (eol < 0) return undefined;
      const first = text.slice(0, eol);
      if (!first.startsWith('INFO ')) return false;
      const info = JSON.parse(first.slice(5)) as { server_name?: string };
      if (info.server_name !== serverName) return false;
      if (!sentPing) {
        sentPing = true;
        sock.write('CONNECT {"verbose":false,"pedantic":false,"name":"lomi-testkit-probe"}\r\nPING\r\n');
        return undefined;
      }
      const rest = text.slice(eol + 2);
      if (rest.includes('PONG\r\n')) return true;
      if (rest.includes('-ERR')) return false;
      return undefined;
    },
  );
}
