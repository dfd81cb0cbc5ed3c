// `pnpm start` (services/all-in-one) without NATS_URL and DATABASE_URL: every service of the
// process on the in-process bus, the durable record in PGlite in LOMI_DATA_DIR. A round trip
// works, and after a restart that also lost everything Redis held of the room, its history comes
// back from the data folder.
import { LomiClient, type Room } from '@lomi/client';
import { connectRedis, createKeys, createLogger, deleteMatching } from '@lomi/common';
import { createLiveRoom, DEFAULT_URLS, freePort, serviceApi, signUserToken, waitFor } from '@lomi/testkit';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const MAIN = path.resolve(__dirname, '../services/all-in-one/dist/main.js');
const namespace = `a${randomBytes(5).toString('hex')}`;
const dataDir = mkdtempSync(path.join(tmpdir(), 'lomi-data-'));
const jwtSecret = randomBytes(32).toString('hex');
const serviceToken = randomBytes(24).toString('hex');
let port = 0;
let child: ChildProcess | undefined;
const lines: string[] = [];

/** Starts the all-in-one process; resolves once it says it is running. */
async function start(): Promise<void> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    REDIS_URL: DEFAULT_URLS.REDIS_URL,
    LOMI_NAMESPACE: namespace,
    LOMI_DATA_DIR: dataDir,
    PORT: String(port),
    JWT_SECRET: jwtSecret,
    SERVICE_TOKEN: serviceToken,
    LOG_LEVEL: 'info',
    DEV_TOKENS: 'false',
    // Only the test's own messages in the room's history.
    JOIN_LEAVE_MESSAGES: 'false',
  };
  delete env.NATS_URL;
  delete env.DATABASE_URL;
  child = spawn(process.execPath, ['--single-threaded-gc', MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const running = new Promise<void>((resolve, reject) => {
    for (const stream of [child!.stdout!, child!.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        if (line.includes('Lomi Chat is running')) resolve();
      });
    }
    child!.once('exit', (code) => reject(new Error(`all-in-one exited with ${code}:\n${lines.slice(-20).join('\n')}`)));
  });
  await running;
}

async function stop(): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child!.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

afterAll(async () => {
  await stop();
  const redis = await connectRedis(DEFAULT_URLS.REDIS_URL, createLogger('test', 'silent'));
  await deleteMatching(redis, createKeys(namespace).allPattern);
  redis.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

test('without NATS_URL and DATABASE_URL it runs on the in-process bus and PGlite, and keeps history across a restart', async () => {
  port = await freePort();
  await start();
  expect(lines.some((l) => l.includes('in-process bus'))).toBe(true);
  expect(lines.some((l) => l.includes(`kept in ${dataDir} (PGlite)`))).toBe(true);

  const api = serviceApi(() => `http://127.0.0.1:${port}`, serviceToken);
  const host = `host-${namespace}`;
  const room: Room = await createLiveRoom(api, host);
  const connect = async () =>
    LomiClient.connect({ url: `ws://127.0.0.1:${port}/api/v1/ws/chat`, token: await signUserToken(jwtSecret, host), WebSocket: WebSocket as never });
  const client = await connect();
  await client.join(room);
  const received: string[] = [];
  client.on('message', (m) => received.push(m.content ?? ''));
  for (const text of ['one', 'two', 'three']) await client.send(room, text);
  await waitFor(() => received.length === 3, 'the three messages back');
  expect(received).toEqual(['one', 'two', 'three']);
  // The persister has them in PGlite before the stop (a stop flushes it too).
  await client.close();
  await stop();

  // Redis forgets the room: only the data folder has the messages now.
  const redis = await connectRedis(DEFAULT_URLS.REDIS_URL, createLogger('test', 'silent'));
  await deleteMatching(redis, createKeys(namespace).allPattern);
  redis.disconnect();

  await start();
  const again = await connect();
  await again.join(room);
  expect((await again.history(room)).messages!.map((m) => m.content)).toEqual(['one', 'two', 'three']);
  await again.close();
}, 120_000);
