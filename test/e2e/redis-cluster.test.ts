// The services on a Redis Cluster (REDIS_CLUSTER_NODES) of three masters and three replicas on
// loopback: rooms spread over every master, each room's keys on the master of its slot. (The
// live and private suites run on a cluster too: the redis-cluster project of jest.config.js.)
import { createKeys } from '@lomi/hot-state';
import { startRedisCluster, type RedisCluster } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import Redis from 'ioredis';

let cluster: RedisCluster;
let system: TestSystem;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicas: 1 });
  system = await startSystem({ env: { REDIS_CLUSTER_NODES: cluster.seeds } });
}, 60_000);
afterAll(async () => {
  await system?.stop();
  await cluster?.stop();
});

test('rooms spread over every master, and each room keeps its messages on the master of its slot', async () => {
  const host = system.user('rc-host');
  const client = await system.connect(host);
  const rooms = [];
  for (let i = 0; i < 12; i++) rooms.push(await system.createLiveRoom(system.user(`rc-host-${i}`)));
  for (let i = 0; i < 6; i++) rooms.push(await system.createPrivateRoom(host, system.user(`rc-peer-${i}`)));
  const keys = createKeys(system.namespace);
  const probe = new Redis(cluster.nodes[0]!.port, '127.0.0.1');
  const masters = new Set<number>();
  try {
    for (const room of rooms) {
      await client.join(room);
      await client.send(room, `hello ${room.id}`);
      const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', keys.history(room)));
      const port = await cluster.masterPortOf(slot);
      masters.add(port);
      // Asked directly (not through the cluster client), the master of the slot has the message.
      const owner = new Redis(port, '127.0.0.1');
      expect(await owner.xlen(keys.history(room))).toBe(1);
      owner.disconnect();
    }
  } finally {
    probe.disconnect();
    await client.close();
  }
  expect(masters.size).toBe(3);
});
