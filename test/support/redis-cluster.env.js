// setupFiles of the redis-cluster project: its test systems use the run's cluster (redis-cluster.setup.js).
process.env.REDIS_CLUSTER_NODES = process.env.LOMI_TEST_REDIS_CLUSTER;
