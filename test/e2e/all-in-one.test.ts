// `pnpm start` (services/all-in-one) with no NATS_URL, REDIS_URL or DATABASE_URL: every service
// of the process on the in-process bus and the memory hot state, the durable record in PGlite in
// LOMI_DATA_DIR. It never opens a socket to NATS, Redis or Postgres; what it prints is enough to
// get a token and a room; a round trip works; and after a restart (which loses everything held
// in memory) the room's history comes back from the data folder.
import { LomiClient, type Room } from '@lomi/client';
import { RoomKind } from '@lomi/protocol';
import { freePort, waitFor, watchProcessSockets, type ProcessSocket } from '@lomi/testkit';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const MAIN = path.resolve(__dirname, '../../services/all-in-one/dist/main.js');
const SERVER_PORTS = [4222, 6379, 5432];
const dataDir = mkdtempSync(path.join(tmpdir(), 'lomi-data-'));
let port = 0;
let child: ChildProcess | undefined;
let lines: string[] = [];
const sockets: ProcessSocket[] = [];
let stopWatching = () => {};

/** Starts the all-in-one process; resolves with its "running" log line once it says it is up. */
async function start(): Promise<Record<string, unknown>> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    LOMI_DATA_DIR: dataDir,
    PORT: String(port),
    LOG_LEVEL: 'info',
    // Only the test's own messages in the room's history.
    JOIN_LEAVE_MESSAGES: 'false',
  };
  for (const name of ['NATS_URL', 'REDIS_URL', 'DATABASE_URL', 'JWT_SECRET', 'SERVICE_TOKEN', 'LOMI_ENV', 'DEV_TOKENS', 'METRICS_PORT']) delete env[name];
  lines = [];
  child = spawn(process.execPath, ['--single-threaded-gc', MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const watch = watchProcessSockets(child.pid!);
  stopWatching = () => {
    watch.stop();
    sockets.push(...watch.seen);
  };
  return new Promise((resolve, reject) => {
    for (const stream of [child!.stdout!, child!.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        if (line.includes('Lomi Chat is running')) resolve(JSON.parse(line) as Record<string, unknown>);
      });
    }
    child!.once('exit', (code) => reject(new Error(`all-in-one exited with ${code}:\n${lines.slice(-20).join('\n')}`)));
  });
}

async function stop(): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child!.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  stopWatching();
}

afterAll(async () => {
  await stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function post<T>(url: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

test('with no server URLs it runs in one process without touching NATS, Redis or Postgres, and keeps history across a restart', async () => {
  port = await freePort();
  const running = await start();
  const embedded = lines.find((l) => l.includes('embedded mode'));
  expect(embedded).toContain('bus: in-process');
  expect(embedded).toContain('hot state: in memory');
  expect(embedded).toContain(`PGlite in ${dataDir}`);

  // What it prints is enough to start: the URLs, and (development) how to get a token and a room.
  expect(running.ws).toBe(`ws://localhost:${port}/api/v1/ws/chat`);
  const http = String(running.http);
  expect((running.tryIt as string[]).join('\n')).toContain(`${http}/api/v1/dev/token`);
  const { token } = await post<{ token: string }>(`${http}/api/v1/dev/token`, { userId: 'alice' });
  const { id } = await post<{ id: string }>(`${http}/api/v1/dev/live`, {}, token);
  const room: Room = { kind: RoomKind.ROOM_KIND_LIVE, id };

  const connect = async () =>
    LomiClient.connect({
      url: String(running.ws),
      token: (await post<{ token: string }>(`${http}/api/v1/dev/token`, { userId: 'alice' })).token,
      WebSocket: WebSocket as never,
    });
  const client = await connect();
  await client.join(room);
  const received: string[] = [];
  client.on('message', (m) => received.push(m.content ?? ''));
  for (const text of ['one', 'two', 'three']) await client.send(room, text);
  await waitFor(() => received.length === 3, 'the three messages back');
  expect(received).toEqual(['one', 'two', 'three']);
  // A stop flushes what the persister had not yet written to PGlite.
  await client.close();
  await stop();

  // A new process: the memory state is gone, only the data folder has the messages.
  await start();
  const again = await connect();
  await again.join(room);
  expect((await again.history(room)).messages!.map((m) => m.content)).toEqual(['one', 'two', 'three']);
  await again.close();
  await stop();

  // The sockets it held: its own listeners and our connections to them, never a server's port.
  expect(sockets.some((s) => s.localPort === port)).toBe(true);
  expect(sockets.filter((s) => SERVER_PORTS.includes(s.remotePort))).toEqual([]);
}, 120_000);
