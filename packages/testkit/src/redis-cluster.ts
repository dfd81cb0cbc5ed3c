// A Redis Cluster on loopback for tests: masters and their replicas, each a redis-server of its
// own (redis-server.ts), joined with `redis-cli --cluster create`. Stop or kill a node by its server.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import type { StartOptions } from './owned-server';
import { startRedisServer, type RedisServer } from './redis-server';

const run = promisify(execFile);

export interface RedisCluster {
  /** Every node; after creation the first `masters` are the masters. */
  nodes: RedisServer[];
  /** The seed list services take (REDIS_CLUSTER_NODES): host:port of every node, comma separated. */
  seeds: string;
  /** The node serving `slot` as master now, by port. */
  masterPortOf(slot: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startRedisCluster({ masters = 3, replicas = 1, ...opts }: StartOptions & { masters?: number; replicas?: number } = {}): Promise<RedisCluster> {
  const started = await Promise.allSettled(Array.from({ length: masters * (1 + replicas) }, () => startRedisServer({ ...opts, cluster: true })));
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async () => void (await Promise.all(nodes.map((n) => n.dispose())));
  try {
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes']);
    await waitForClusterOk(nodes);
    return {
      nodes,
      seeds: addresses.join(','),
      async masterPortOf(slot) {
        const client = new Redis(nodes.find((n) => n.running)?.port ?? nodes[0]!.port, '127.0.0.1', { lazyConnect: true });
        try {
          await client.connect();
          const ranges = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
          const range = ranges.find(([from, to]) => slot >= from && slot <= to);
          if (!range) throw new Error(`no master serves slot ${slot}`);
          return range[2][1];
        } finally {
          client.disconnect();
        }
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Until every node says cluster_state:ok (slots assigned, replicas attached), or 20 s. */
async function waitForClusterOk(nodes: RedisServer[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (const node of nodes) {
    const client = new Redis(node.port, '127.0.0.1');
    try {
      for (;;) {
        const info = String(await client.call('CLUSTER', 'INFO'));
        if (info.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`Redis Cluster node ${node.port} not ok after 20 s:\n${info}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      client.disconnect();
    }
  }
}
