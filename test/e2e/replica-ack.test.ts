// ACK_DURABILITY=replica: a send is acked only once a Redis replica has it (WAIT), so a failover to
// that replica loses nothing acked. Without a replica in time the send is answered UNAVAILABLE,
// and retried with the same client_msg_id once the replica is back it is acked with its seq,
// stored once.
import { ErrorCode } from '@lomi/client';
import { createKeys } from '@lomi/hot-state';
import { Encoding } from '@lomi/protocol';
import { RawSocket, startRedisServer, waitFor, type RedisServer } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';
import Redis from 'ioredis';

let master: RedisServer;
let replicaServer: RedisServer;
let replica: Redis;
let system: TestSystem;

beforeAll(async () => {
  [master, replicaServer] = await Promise.all([startRedisServer(), startRedisServer()]);
  replica = new Redis(replicaServer.url);
  await replica.replicaof('127.0.0.1', master.port);
  await waitFor(async () => (await replica.info('replication')).includes('master_link_status:up'), 'the replica to follow the master');
  system = await startSystem({ env: { REDIS_URL: master.url, ACK_DURABILITY: 'replica', ACK_REPLICA_TIMEOUT_MS: '500' } });
}, 60_000);
afterAll(async () => {
  await system?.stop();
  replica?.disconnect();
  await Promise.all([master?.dispose(), replicaServer?.dispose()]);
});

test('an acked send is on the replica; without a replica it is UNAVAILABLE, and its retry is stored once', async () => {
  const host = system.user('ra-host');
  const room = await system.createPrivateRoom(host, system.user('ra-peer'));
  const socket = await RawSocket.open(system.wsUrl(0), await system.token(host), Encoding.JSON);
  const send = (requestId: number, clientMsgId: string) => socket.request({ requestId, send: { room, clientMsgId, text: `message ${clientMsgId}` } });

  const first = await send(1, 'ra-1');
  const seq = Number(first?.ack?.seq);
  expect(seq).toBeGreaterThan(0);
  // Acked means the replica has it in the room's history.
  const history = createKeys(system.namespace).history(room);
  expect(await replica.xrange(history, `${seq}-0`, `${seq}-0`)).toHaveLength(1);

  // The replica stops following: the next send is not acked.
  await replica.replicaof('NO', 'ONE');
  const refused = await send(2, 'ra-2');
  expect(refused?.error).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });

  // Back: the retry is acked with the seq the first attempt took, as a duplicate.
  await replica.replicaof('127.0.0.1', master.port);
  await waitFor(async () => (await replica.info('replication')).includes('master_link_status:up'), 'the replica to follow again');
  const retried = await send(3, 'ra-2');
  expect(Number(retried?.ack?.seq)).toBe(seq + 1);
  expect(retried?.ack?.duplicate).toBe(true);
  expect(await replica.xrange(history, '-', '+')).toHaveLength(2);
  socket.close();
});
