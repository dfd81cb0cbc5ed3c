// Errors say what they are: UNAVAILABLE (retry) only when a dependency — Redis, Postgres, NATS, a
// worker — did not answer; INTERNAL for anything else that is not a refusal, a bug that a retry
// will not fix. Over the wire with real outages of private servers, and the classifier fed the
// errors the real client libraries throw at servers that are gone.
import { BusClosedError, connectNatsBus, NoResponderError, PayloadTooLargeError } from '@lomi/bus';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { ErrorCode, type LomiClient } from '@lomi/client';
import { failureOf, RequestError, UnavailableError, UnreachableError } from '@lomi/errors';
import { connectRedis, createKeys } from '@lomi/hot-state';
import { createLogger } from '@lomi/service-runtime';
import { DEFAULT_URLS, freePort, startNatsServer, startRedisServer, waitFor, type NatsServer, type RedisServer } from '@lomi/testkit';
import { startSystem } from '../support/system';

const log = createLogger('test', 'silent');
const codeOf = (err: unknown) => ErrorCode[failureOf(err, log).code];
/** What `promise` rejected with (it must reject). */
const rejectionOf = (promise: Promise<unknown>) =>
  promise.then(
    () => Promise.reject(new Error('did not fail')),
    (err: unknown) => err,
  );

const UNAVAILABLE = { code: ErrorCode.ERROR_CODE_UNAVAILABLE };

describe('with a private Redis that stops', () => {
  let redisServer: RedisServer;
  let system: Awaited<ReturnType<typeof startSystem>>;
  beforeAll(async () => {
    redisServer = await startRedisServer();
    system = await startSystem({ env: { REDIS_URL: redisServer.url } });
  });
  afterAll(async () => {
    await system.stop();
    await redisServer.dispose();
  });

  test('sends and joins answer UNAVAILABLE while Redis is down, and a retried send works once it is back', async () => {
    const host = system.user('r-host');
    const [room, other] = [await system.createLiveRoom(host), await system.createLiveRoom(host)];
    const client = await system.connect(system.user('r-viewer'));
    await client.join(room);
    await client.send(room, 'before');

    await redisServer.stop();
    await expect(client.send(room, 'during', 'retried-id')).rejects.toMatchObject(UNAVAILABLE);
    await expect(client.join(other)).rejects.toMatchObject(UNAVAILABLE);

    await redisServer.start();
    let ack: Awaited<ReturnType<LomiClient['send']>> | undefined;
    await waitFor(async () => Boolean((ack = await client.send(room, 'during', 'retried-id').catch(() => undefined))), 'the retried send to be acked');
    expect(Number(ack!.seq)).toBeGreaterThan(0);
  });
});

describe('with a private NATS that stops', () => {
  let natsServer: NatsServer;
  let system: Awaited<ReturnType<typeof startSystem>>;
  beforeAll(async () => {
    natsServer = await startNatsServer();
    system = await startSystem({ env: { NATS_URL: natsServer.url, REQUEST_TIMEOUT_MS: '500' } });
  });
  afterAll(async () => {
    if (!natsServer.running) await natsServer.start();
    await system.stop();
    await natsServer.dispose();
  });

  test('the gateway answers UNAVAILABLE, not INTERNAL, to a send and a join while NATS is down', async () => {
    const host = system.user('n-host');
    const [room, other] = [await system.createLiveRoom(host), await system.createLiveRoom(host)];
    const client = await system.connect(system.user('n-viewer'));
    await client.join(room);

    await natsServer.stop();
    await expect(client.send(room, 'lost in the void')).rejects.toMatchObject(UNAVAILABLE);
    await expect(client.join(other)).rejects.toMatchObject(UNAVAILABLE);
  });
});

test('a bug answers INTERNAL, not a retry: a room whose cached facts Redis holds as the wrong type', async () => {
  const system = await startSystem();
  const redis = new Redis(system.env.REDIS_URL!);
  try {
    const room = await system.createLiveRoom(system.user('b-host'));
    // Redis answers the worker's GET with a WRONGTYPE error: Redis is up, and retrying cannot help.
    const meta = createKeys(system.namespace).meta(room);
    await redis.multi().del(meta).hset(meta, 'kind', 'live').expire(meta, 60).exec();
    const client = await system.connect(system.user('b-viewer'));
    await expect(client.join(room)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INTERNAL, message: expect.stringMatching(/internal error/) });
  } finally {
    redis.disconnect();
    await system.stop();
  }
});

describe('the classifier, fed what the client libraries throw', () => {
  test('Redis: a stopped server is UNAVAILABLE; an error reply is INTERNAL', async () => {
    const server = await startRedisServer();
    const redis = await connectRedis(server.url, log);
    try {
      expect(codeOf(await rejectionOf(redis.call('NOSUCHCOMMAND')))).toBe('ERROR_CODE_INTERNAL');
      await server.stop();
      const err = await rejectionOf(redis.get('k'));
      expect(err).toMatchObject({ name: 'MaxRetriesPerRequestError' });
      expect(codeOf(err)).toBe('ERROR_CODE_UNAVAILABLE');
    } finally {
      redis.disconnect();
      await server.dispose();
    }
  });

  test('Postgres: a closed port and a terminated session are UNAVAILABLE; refused data is INTERNAL', async () => {
    const closed = new Pool({ host: '127.0.0.1', port: await freePort(), user: 'postgres' });
    const refused = await rejectionOf(closed.query('select 1'));
    expect(refused).toMatchObject({ code: 'ECONNREFUSED' });
    expect(codeOf(refused)).toBe('ERROR_CODE_UNAVAILABLE');
    await closed.end();

    const pool = new Pool({ connectionString: DEFAULT_URLS.DATABASE_URL, max: 1 });
    pool.on('error', () => undefined);
    try {
      const nul = await rejectionOf(pool.query('select $1::text', ['a\u0000b']));
      expect(nul).toMatchObject({ code: '22021' });
      expect(codeOf(nul)).toBe('ERROR_CODE_INTERNAL');
      const terminated = await rejectionOf(pool.query('select pg_terminate_backend(pg_backend_pid())'));
      expect(codeOf(terminated)).toBe('ERROR_CODE_UNAVAILABLE');
    } finally {
      await pool.end();
    }
  });

  test('the bus (NATS): unreachable, no responders, timed out and closed are UNAVAILABLE; too large is INTERNAL', async () => {
    const unreachable = await rejectionOf(connectNatsBus(`nats://127.0.0.1:${await freePort()}`, 'classifier', log, { requestTimeoutMs: 50 }));
    expect(unreachable).toBeInstanceOf(UnreachableError);
    expect(codeOf(unreachable)).toBe('ERROR_CODE_UNAVAILABLE');

    const bus = await connectNatsBus(DEFAULT_URLS.NATS_URL, 'classifier', log, { requestTimeoutMs: 50 });
    const subject = `classifier.${process.pid}.${Date.now()}`;
    const noResponders = await rejectionOf(bus.request(`${subject}.nobody`, new Uint8Array()));
    expect(noResponders).toBeInstanceOf(NoResponderError);
    expect(codeOf(noResponders)).toBe('ERROR_CODE_UNAVAILABLE');
    bus.subscribe(`${subject}.silent`, () => undefined); // takes requests, answers none
    await bus.flush();
    const timedOut = await rejectionOf(bus.request(`${subject}.silent`, new Uint8Array()));
    expect((timedOut as Error).message).toMatch(/timeout/);
    expect(codeOf(timedOut)).toBe('ERROR_CODE_UNAVAILABLE');
    let tooLarge: unknown;
    try {
      bus.publish(subject, new Uint8Array(bus.maxPayload + 1));
    } catch (err) {
      tooLarge = err;
    }
    expect(tooLarge).toBeInstanceOf(PayloadTooLargeError);
    expect(codeOf(tooLarge)).toBe('ERROR_CODE_INTERNAL');
    await bus.drain();
    let closed: unknown;
    try {
      bus.publish(subject, new Uint8Array());
    } catch (err) {
      closed = err;
    }
    expect(closed).toBeInstanceOf(BusClosedError);
    expect(codeOf(closed)).toBe('ERROR_CODE_UNAVAILABLE');
  });

  test('our own classes keep their meaning, causes are followed, and anything unknown is INTERNAL', () => {
    expect(failureOf(new RequestError(ErrorCode.ERROR_CODE_RATE_LIMITED, 'slow down', 250), log)).toEqual({
      code: ErrorCode.ERROR_CODE_RATE_LIMITED,
      message: 'slow down',
      retryAfterMs: 250,
    });
    expect(codeOf(new UnavailableError('Redis did not answer'))).toBe('ERROR_CODE_UNAVAILABLE');
    expect(codeOf(new Error('while storing', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }))).toBe('ERROR_CODE_UNAVAILABLE');
    expect(codeOf(new Error('boom'))).toBe('ERROR_CODE_INTERNAL');
    expect(codeOf(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe('ERROR_CODE_INTERNAL');
    expect(codeOf(Object.assign(new Error('weird'), { code: 'EWEIRD' }))).toBe('ERROR_CODE_INTERNAL');
    expect(codeOf('a string thrown')).toBe('ERROR_CODE_INTERNAL');
  });
});
