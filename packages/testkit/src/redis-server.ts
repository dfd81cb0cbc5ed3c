// redis-server processes of a test's own (owned-server.ts); redis-cluster.ts joins them into a cluster.
import { makeTempDir, ProcessServer, startOrCleanup, timeoutsOf, withFields, type OwnedServer, type StartOptions } from './owned-server';
import { probe } from './probe';

export type RedisServer = OwnedServer & { readonly url: string };

export interface RedisOptions extends StartOptions {
  /**
   * Persist to an append-only file fsynced every second (Redis 7 keeps it in several parts under
   * `<dir>/appendonlydir`, the newest writes in `*.incr.aof`) instead of nothing.
   */
  appendOnly?: boolean;
  /** Start as a Redis Cluster node (redis-cluster.ts joins nodes into a cluster). */
  cluster?: boolean;
}

export const REDIS_SERVER_BIN = 'redis-server';

/** redis-server on 127.0.0.1:<free port>, nothing persisted unless asked; `url` is `redis://127.0.0.1:<port>`. */
export async function startRedisServer(opts: RedisOptions = {}): Promise<RedisServer> {
  const dir = makeTempDir('lomi-redis');
  const server = new ProcessServer(
    {
      name: 'redis-server',
      command: REDIS_SERVER_BIN,
      args: (port) => [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        opts.appendOnly ? 'yes' : 'no',
        ...(opts.appendOnly ? ['--appendfsync', 'everysec'] : []),
        ...(opts.cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000'] : []),
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--logfile',
        '',
      ],
      cwd: dir,
      stopSignal: 'SIGTERM',
      ready: redisReady,
      ...timeoutsOf(opts),
    },
    dir,
  );
  await startOrCleanup(server);
  return withFields(server, { url: `redis://127.0.0.1:${server.port}` });
}

/** PING must answer PONG, and INFO's process_id must be our child (not a stranger on the port). */
function redisReady(port: number, pid: number): Promise<boolean> {
  return probe(
    { host: '127.0.0.1', port },
    (sock) => sock.write('PING\r\nINFO server\r\n'),
    (buf) => {
      const pong = Buffer.from('+PONG\r\n');
      if (buf.length < pong.length) return pong.subarray(0, buf.length).equals(buf) ? undefined : false;
      if (!buf.subarray(0, pong.length).equals(pong)) return false; // e.g. -LOADING
      const rest = buf.subarray(pong.length);
      const eol = rest.indexOf('\r\n');
      if (eol < 0) return undefined;
      if (rest[0] !== 0x24 /* $ */) return false;
      const len = Number(rest.subarray(1, eol).toString('latin1'));
      if (rest.length < eol + 2 + len) return undefined;
      const body = rest.subarray(eol + 2, eol + 2 + len).toString('utf8');
      return new RegExp(`^process_id:${pid}\\r?$`, 'm').test(body);
    },
  );
}
