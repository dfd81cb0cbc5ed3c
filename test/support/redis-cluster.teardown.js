module.exports = async () => {
  await globalThis.__lomiRedisCluster?.stop();
};
