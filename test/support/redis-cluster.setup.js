// The redis-cluster project (jest.config.js): one Redis Cluster (3 masters, 3 replicas) on
// loopback for the whole run, started before its tests and stopped after them. Its seeds go in
// a variable of their own, which only this project's setup file (redis-cluster.env.js) turns into
// REDIS_CLUSTER_NODES: the other projects' workers inherit the variable too.
const { startRedisCluster } = require('../../packages/testkit/dist');

module.exports = async () => {
  const cluster = await startRedisCluster({ masters: 3, replicas: 1 });
  globalThis.__lomiRedisCluster = cluster;
  process.env.LOMI_TEST_REDIS_CLUSTER = cluster.seeds;
};
