/**
 * Private server processes for fault tests: each call starts its OWN
 * nats-server / redis-server / postgres from this machine's Debian binaries on
 * a free loopback port, owned by this process and controlled by PID, so a test
 * can stop, SIGKILL or restart it without touching the shared services on the
 * standard ports.
 *
 * Cleanup, in layers:
 *  - dispose() stops the server and deletes its temp dir;
 *  - on process 'exit' every server still running is SIGKILLed (with its
 *    descendants) synchronously and its temp dir removed;
 *  - if this process dies without running 'exit' handlers (SIGTERM, SIGKILL,
 *    a crashed jest worker), a tiny detached `sh` "reaper" per server sees its
 *    stdin pipe close, stops the server and removes the temp dir.
 *
 * Only Node built-ins are used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';

export interface OwnedServer {
  /** PID of the server process: the current one while running, else the last one. */
  readonly pid: number;
  /** Loopback TCP port; stays the same across stop()/kill()/start(). */
  readonly port: number;
  /** Temp dir owned by this server (data, sockets); deleted by dispose(). */
  readonly dir: string;
  /** True between a successful start and the process's exit. */
  readonly running: boolean;
  /** Graceful stop (SIGTERM; Postgres: SIGINT = fast shutdown), SIGKILL after a timeout. No-op when not running. */
  stop(): Promise<void>;
  /** SIGKILL the server (and, for Postgres, all its backends at once), no cleanup. No-op when not running. */
  kill(): Promise<void>;
  /** Start again on the SAME port and SAME data dir after stop()/kill(). No-op when running. */
  start(): Promise<void>;
  /** Stop if running and delete the temp dir. Idempotent. */
  dispose(): Promise<void>;
  /** Last lines the server wrote to stdout/stderr (for debugging failed tests). */
  output(lines?: number): string;
}

export type NatsServer = OwnedServer & {
  readonly url: string;
  /** With `monitor`: the server's HTTP monitoring (e.g. `${monitorUrl}/subsz`). */
  readonly monitorUrl?: string;
};
export type RedisServer = OwnedServer & { readonly url: string };
export type PostgresServer = OwnedServer & { readonly url: string; readonly dataDir: string };

export interface StartOptions {
  /** How long to wait for the server to answer after spawning it (default 15000). */
  startTimeoutMs?: number;
  /** How long stop() waits for a graceful exit before SIGKILL (default 15000). */
  stopTimeoutMs?: number;
}

export interface NatsOptions extends StartOptions {
  /** Enable JetStream with its store in the server's temp dir. */
  jetstream?: boolean;
  /** Serve the HTTP monitoring endpoints on a free port (NatsServer.monitorUrl). */
  monitor?: boolean;
  /** Join a cluster: this node's route port and every node's (its own included). */
  cluster?: { name: string; port: number; routes: number[] };
}

export interface PostgresOptions extends StartOptions {
  /** Extra server settings, passed as `-c name=value`. */
  settings?: Record<string, string | number | boolean>;
}

export const NATS_SERVER_BIN = '/usr/sbin/nats-server';
export const REDIS_SERVER_BIN = 'redis-server';
export const POSTGRES_LIB_DIR = '/usr/lib/postgresql';

const DEFAULT_START_TIMEOUT_MS = 15_000;
const DEFAULT_STOP_TIMEOUT_MS = 15_000;
const INITDB_TIMEOUT_MS = 60_000;
const PROBE_TIMEOUT_MS = 1_000;
const OUTPUT_KEEP_CHARS = 64 * 1024;
const ERROR_TAIL_LINES = 40;
const PORT_RETRIES = 3;
const ADDR_IN_USE = /address already in use|could not create any TCP\/IP sockets/i;

// ---------------------------------------------------------------------------
// small helpers

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tailLines(text: string, n: number): string {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n).join('\n');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie still "exists" for kill(0); treat it as dead.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** All descendants of `root` (children, grandchildren, ...), read from /proc. Synchronous. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid ..." — comm may contain spaces and parens.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    const list = children.get(ppid);
    if (list) list.push(Number(name));
    else children.set(ppid, [Number(name)]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    for (const c of children.get(p) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

function signalQuietly(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** SIGKILL `pid`, its process group and all its descendants. Synchronous; returns the PIDs signalled. */
function killTreeSync(pid: number): number[] {
  const all = [pid, ...descendants(pid)];
  signalQuietly(-pid, 'SIGKILL'); // the child is spawned detached: pgid === pid
  for (const p of all) signalQuietly(p, 'SIGKILL');
  return all;
}

interface PasswdEntry {
  uid: number;
  gid: number;
  home: string;
}

function lookupUser(name: string): PasswdEntry | undefined {
  let passwd: string;
  try {
    passwd = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 7) {
      return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' };
    }
  }
  return undefined;
}

/** A temp dir with a short path (Unix socket paths are limited to ~107 bytes). */
function makeTempDir(prefix: string): string {
  let base = os.tmpdir();
  if (base.length > 60) base = '/tmp';
  return fs.mkdtempSync(path.join(base, `${prefix}-`));
}

/**
 * Connects, lets `onConnect` write, feeds received bytes to `onData` until it
 * returns true (ready) or false (not ready). Any error or timeout → false.
 */
function probe(
  connect: net.NetConnectOpts,
  onConnect: (sock: net.Socket) => void,
  onData: (buf: Buffer, sock: net.Socket) => boolean | undefined,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let done = false;
    let buf = Buffer.alloc(0);
    const sock = net.createConnection(connect);
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('connect', () => {
      try {
        onConnect(sock);
      } catch {
        finish(false);
      }
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      let verdict: boolean | undefined;
      try {
        verdict = onData(buf, sock);
      } catch {
        verdict = false;
      }
      if (verdict !== undefined) finish(verdict);
    });
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
  });
}

// ---------------------------------------------------------------------------
// process-exit cleanup and reapers

const live = new Set<ProcessServer>();
let exitHookInstalled = false;

function onProcessExit(): void {
  for (const s of live) s.emergencyCleanupSync();
}

function track(s: ProcessServer): void {
  live.add(s);
  if (!exitHookInstalled) {
    process.on('exit', onProcessExit);
    exitHookInstalled = true;
  }
}

function untrack(s: ProcessServer): void {
  live.delete(s);
  if (live.size === 0 && exitHookInstalled) {
    process.removeListener('exit', onProcessExit);
    exitHookInstalled = false;
  }
}

/*
 * Reaper: reads PIDs from stdin (the last line is the current server PID, 0 =
 * none). When stdin closes (this process died, however), it stops that PID
 * (stop signal, then SIGKILL after 5 s) and removes the temp dir. $1 = dir (empty: none),
 * $2 = stop signal name.
 */
const REAPER_SCRIPT = [
  'trap "" INT HUP TERM PIPE',
  // alive = exists and is not a zombie (orphans may wait a while to be reaped)
  'alive() { st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; case "$st" in *") Z "*|*") X "*) return 1;; esac; return 0; }',
  'pid=0',
  'while IFS= read -r l; do pid=$l; done',
  'if [ "$pid" != 0 ] && alive "$pid"; then',
  '  kill -s "$2" "$pid" 2>/dev/null',
  '  i=0',
  '  while alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done',
  '  kill -s KILL "$pid" 2>/dev/null',
  '  sleep 0.3',
  'fi',
  'if [ -n "$1" ]; then rm -rf -- "$1"; fi',
].join('\n');

/** Stops a process (and removes `dir`, if given) when this process dies, however it dies. */
export class Reaper {
  private proc: ChildProcess | undefined;

  constructor(dir: string, stopSignal: NodeJS.Signals) {
    try {
      const r = spawn('/bin/sh', ['-c', REAPER_SCRIPT, 'lomi-testkit-reaper', dir, stopSignal.replace(/^SIG/, '')], {
        detached: true, // survives a kill of our process group
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      r.on('error', () => undefined);
      r.stdin?.on('error', () => undefined);
      r.unref();
      (r.stdin as unknown as net.Socket | null)?.unref?.();
      this.proc = r;
    } catch {
      this.proc = undefined; // best effort only
    }
  }

  /** The PID to stop if this process dies (0 = none). */
  tell(pid: number): void {
    const stdin = this.proc?.stdin;
    if (stdin && !stdin.destroyed) stdin.write(`${pid}\n`);
  }

  dispose(): void {
    this.proc?.kill('SIGKILL');
    this.proc = undefined;
  }
}

// ---------------------------------------------------------------------------
// the generic owned server

interface ServerSpec {
  /** Human name used in errors, e.g. "redis-server". */
  name: string;
  command: string;
  args(port: number): string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  stopSignal: NodeJS.Signals;
  /** Resolves true once the freshly spawned server with this pid answers on this port. */
  ready(port: number, pid: number): Promise<boolean>;
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

class ProcessServer implements OwnedServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private lastPid = 0;
  private portNo = 0;
  private out = '';
  private disposed = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly spec: ServerSpec,
    readonly dir: string,
    private readonly reaper: Reaper = new Reaper(dir, spec.stopSignal),
  ) {
    track(this);
  }

  get pid(): number {
    return this.lastPid;
  }

  get port(): number {
    return this.portNo;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  output(lines = ERROR_TAIL_LINES): string {
    return tailLines(this.out, lines);
  }

  /** First start: picks a free port, retrying with another one if it was taken meanwhile. */
  async startOnFreePort(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.portNo = await freePort();
      try {
        await this.launch();
        return;
      } catch (e) {
        if (attempt >= PORT_RETRIES || !(e instanceof StartError) || !e.addressInUse) throw e;
      }
    }
  }

  start(): Promise<void> {
    return this.serial(async () => {
      if (this.disposed) throw new Error(`${this.spec.name}: start() after dispose()`);
      if (this.child) return;
      await this.launch();
    });
  }

  stop(): Promise<void> {
    return this.serial(() => this.stopNow());
  }

  kill(): Promise<void> {
    return this.serial(() => this.killNow());
  }

  dispose(): Promise<void> {
    return this.serial(async () => {
      if (this.disposed) return;
      this.disposed = true;
      try {
        await this.stopNow();
      } finally {
        await fs.promises.rm(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }).catch(() => undefined);
        this.reaper.dispose();
        untrack(this);
      }
    });
  }

  /** Called from the process 'exit' hook: synchronous SIGKILL of everything, then remove the temp dir. */
  emergencyCleanupSync(): void {
    if (this.child) killTreeSync(this.lastPid);
    this.reaper.dispose();
    try {
      fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 });
    } catch {
      /* best effort */
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private append(chunk: Buffer): void {
    this.out += chunk.toString('utf8');
    if (this.out.length > OUTPUT_KEEP_CHARS * 2) this.out = this.out.slice(-OUTPUT_KEEP_CHARS);
  }

  private async launch(): Promise<void> {
    const { spec } = this;
    const port = this.portNo;
    const startedAt = Date.now();
    this.out += `--- ${new Date().toISOString()} starting ${spec.command} ${spec.args(port).join(' ')}\n`;

    const child = spawn(spec.command, spec.args(port), {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      uid: spec.uid,
      gid: spec.gid,
      detached: true, // own process group: kill(-pid) reaches it, terminal ^C doesn't
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let exitInfo: string | undefined;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `code ${String(code)}`;
        if (this.child === child) {
          this.child = undefined;
          this.reaper.tell(0);
        }
        resolve();
      });
    });
    child.stdout?.on('data', (c: Buffer) => this.append(c));
    child.stderr?.on('data', (c: Buffer) => this.append(c));
    // Don't let a forgotten server keep the test process alive; the 'exit' hook kills it.
    child.unref();
    (child.stdout as unknown as net.Socket | null)?.unref?.();
    (child.stderr as unknown as net.Socket | null)?.unref?.();

    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) =>
        reject(new Error(`${spec.name}: could not run ${spec.command}: ${err.message}`)),
      );
    });
    const pid = child.pid as number;
    this.child = child;
    this.exited = exited;
    this.lastPid = pid;
    this.reaper.tell(pid);

    const deadline = startedAt + spec.startTimeoutMs;
    let delay = 25;
    for (;;) {
      if (exitInfo !== undefined) {
        await sleep(20); // let the last output arrive
        throw new StartError(
          `${spec.name} exited (${exitInfo}) before it was ready on 127.0.0.1:${port}`,
          this.output(),
        );
      }
      const ok = await Promise.race([spec.ready(port, pid), exited.then(() => false)]);
      if (ok && exitInfo === undefined) return;
      if (Date.now() >= deadline) break;
      await Promise.race([sleep(delay), exited]);
      delay = Math.min(delay * 2, 200);
    }
    killTreeSync(pid);
    await this.waitExit(5_000);
    throw new StartError(
      `${spec.name} did not become ready on 127.0.0.1:${port} within ${spec.startTimeoutMs} ms`,
      this.output(),
    );
  }

  /**
   * Waits for the current child to exit, up to `timeoutMs`; true if it did.
   * The child and its pipes are unref'd, so the ref'd timer here is what keeps
   * the event loop alive while we wait.
   */
  private async waitExit(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return exited;
  }

  private async stopNow(): Promise<void> {
    if (!this.child) return;
    signalQuietly(this.lastPid, this.spec.stopSignal);
    if (!(await this.waitExit(this.spec.stopTimeoutMs))) {
      this.out += `--- ${this.spec.name} did not stop within ${this.spec.stopTimeoutMs} ms, sending SIGKILL\n`;
      await this.killNow();
    }
  }

  private async killNow(): Promise<void> {
    if (!this.child) return;
    const pids = killTreeSync(this.lastPid);
    if (!(await this.waitExit(10_000))) {
      throw new Error(`${this.spec.name}: pid ${this.lastPid} did not exit after SIGKILL`);
    }
    // Descendants (e.g. Postgres backends, which are their own process groups)
    // must be gone too before a restart may reuse the data dir.
    const deadline = Date.now() + 5_000;
    while (pids.some(isAlive) && Date.now() < deadline) await sleep(10);
  }
}

class StartError extends Error {
  readonly addressInUse: boolean;
  constructor(message: string, output: string) {
    super(`${message}\n--- last output ---\n${output}`);
    this.name = 'StartError';
    this.addressInUse = ADDR_IN_USE.test(output);
  }
}

/** Adds read-only fields to the instance itself, so its live getters (pid, running, ...) keep working. */
function withFields<T extends object, U extends object>(server: T, extra: U): T & U {
  for (const [k, v] of Object.entries(extra)) {
    Object.defineProperty(server, k, { value: v, enumerable: true });
  }
  return server as T & U;
}

async function startOrCleanup(server: ProcessServer): Promise<void> {
  try {
    await server.startOnFreePort();
  } catch (e) {
    await server.dispose().catch(() => undefined);
    throw e;
  }
}

// ---------------------------------------------------------------------------
// NATS

let natsCounter = 0;

/** nats-server on 127.0.0.1:<free port>; `url` is `nats://127.0.0.1:<port>`. */
export async function startNatsServer(opts: NatsOptions = {}): Promise<NatsServer> {
  if (!fs.existsSync(NATS_SERVER_BIN)) {
    throw new Error(`${NATS_SERVER_BIN} not found (apt-get install -y nats-server)`);
  }
  const dir = makeTempDir('lomi-nats');
  // A unique name lets the probe tell our server from whatever else may hold the port.
  const serverName = `lomi-test-${process.pid}-${++natsCounter}-${path.basename(dir)}`;
  const monitorPort = opts.monitor ? await freePort() : 0;
  const server = new ProcessServer(
    {
      name: 'nats-server',
      command: NATS_SERVER_BIN,
      args: (port) => [
        '-a', '127.0.0.1',
        '-p', String(port),
        '-n', serverName,
        ...(opts.jetstream ? ['-js', '-sd', path.join(dir, 'jetstream')] : []),
        ...(monitorPort ? ['-m', String(monitorPort)] : []),
        ...(opts.cluster
          ? [
              '--cluster_name', opts.cluster.name,
              '--cluster', `nats://127.0.0.1:${opts.cluster.port}`,
              '--routes', opts.cluster.routes.filter((r) => r !== opts.cluster!.port).map((r) => `nats://127.0.0.1:${r}`).join(','),
            ]
          : []),
      ],
      cwd: dir,
      stopSignal: 'SIGTERM',
      ready: (port) => natsReady(port, serverName),
      startTimeoutMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      stopTimeoutMs: opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
    },
    dir,
  );
  await startOrCleanup(server);
  return withFields(server, { url: `nats://127.0.0.1:${server.port}`, ...(monitorPort ? { monitorUrl: `http://127.0.0.1:${monitorPort}` } : {}) });
}

/** `size` NATS servers routed to each other as one cluster (no JetStream); each keeps its ports across restarts. */
export async function startNatsCluster(size = 3, opts: StartOptions & { monitor?: boolean } = {}): Promise<NatsServer[]> {
  const routes: number[] = [];
  for (let i = 0; i < size; i++) routes.push(await freePort());
  const name = `lomi-cluster-${process.pid}-${++natsCounter}`;
  const started = await Promise.allSettled(routes.map((port) => startNatsServer({ ...opts, cluster: { name, port, routes } })));
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((n) => n.dispose()));
    throw failed.reason;
  }
  return nodes;
}

function natsReady(port: number, serverName: string): Promise<boolean> {
  let sentPing = false;
  return probe(
    { host: '127.0.0.1', port },
    () => undefined,
    (buf, sock) => {
      const text = buf.toString('utf8');
      const eol = text.indexOf('\r\n');
      if (eol < 0) return undefined;
      const first = text.slice(0, eol);
      if (!first.startsWith('INFO ')) return false;
      const info = JSON.parse(first.slice(5)) as { server_name?: string };
      if (info.server_name !== serverName) return false;
      if (!sentPing) {
        sentPing = true;
        sock.write('CONNECT {"verbose":false,"pedantic":false,"name":"lomi-testkit-probe"}\r\nPING\r\n');
        return undefined;
      }
      const rest = text.slice(eol + 2);
      if (rest.includes('PONG\r\n')) return true;
      if (rest.includes('-ERR')) return false;
      return undefined;
    },
  );
}

// ---------------------------------------------------------------------------
// Redis

export interface RedisOptions extends StartOptions {
  /**
   * Persist to an append-only file fsynced every second (Redis 7 keeps it in several parts under
   * `<dir>/appendonlydir`, the newest writes in `*.incr.aof`) instead of nothing.
   */
  appendOnly?: boolean;
}

/** redis-server on 127.0.0.1:<free port>, nothing persisted unless asked; `url` is `redis://127.0.0.1:<port>`. */
export async function startRedisServer(opts: RedisOptions = {}): Promise<RedisServer> {
  const dir = makeTempDir('lomi-redis');
  const server = new ProcessServer(
    {
      name: 'redis-server',
      command: REDIS_SERVER_BIN,
      args: (port) => [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--save', '',
        '--appendonly', opts.appendOnly ? 'yes' : 'no',
        ...(opts.appendOnly ? ['--appendfsync', 'everysec'] : []),
        '--dir', dir,
        '--daemonize', 'no',
        '--logfile', '',
      ],
      cwd: dir,
      stopSignal: 'SIGTERM',
      ready: redisReady,
      startTimeoutMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      stopTimeoutMs: opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
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

// ---------------------------------------------------------------------------
// Postgres

/** The `bin` dir of the highest PostgreSQL version under /usr/lib/postgresql. */
export function findPostgresBinDir(): string {
  let versions: string[] = [];
  try {
    versions = fs
      .readdirSync(POSTGRES_LIB_DIR)
      .filter((v) => fs.existsSync(path.join(POSTGRES_LIB_DIR, v, 'bin', 'postgres')));
  } catch {
    /* none */
  }
  versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const best = versions[versions.length - 1];
  if (best === undefined) {
    throw new Error(`no PostgreSQL server binaries under ${POSTGRES_LIB_DIR}/*/bin (apt-get install -y postgresql)`);
  }
  return path.join(POSTGRES_LIB_DIR, best, 'bin');
}

function postgresIdentity(): { uid?: number; gid?: number; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { env };
  // Postgres refuses to run as root: run it as the `postgres` OS user.
  const pw = lookupUser('postgres');
  if (!pw) throw new Error('running as root but there is no "postgres" OS user (apt-get install -y postgresql)');
  env.HOME = pw.home;
  env.USER = 'postgres';
  env.LOGNAME = 'postgres';
  return { uid: pw.uid, gid: pw.gid, env };
}

function runToCompletion(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; uid?: number; gid?: number; timeoutMs: number; reaper?: Reaper },
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let out = '';
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      uid: options.uid,
      gid: options.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.once('spawn', () => options.reaper?.tell(child.pid ?? 0));
    const collect = (c: Buffer): void => {
      out += c.toString('utf8');
      if (out.length > 2 * OUTPUT_KEEP_CHARS) out = out.slice(-OUTPUT_KEEP_CHARS);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const timer = setTimeout(() => {
      signalQuietly(child.pid ?? -1, 'SIGKILL');
      reject(new Error(`${path.basename(command)} timed out after ${options.timeoutMs} ms\n${tailLines(out, ERROR_TAIL_LINES)}`));
    }, options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.reaper?.tell(0);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${path.basename(command)} failed (${signal ? `signal ${signal}` : `exit code ${String(code)}`})\n${tailLines(out, ERROR_TAIL_LINES)}`,
          ),
        );
    });
  });
}

function postgresLocale(): string[] {
  // Same as the machine's cluster (C.UTF-8) where available; plain C otherwise.
  const hasCUtf8 = ['/usr/lib/locale/C.utf8', '/usr/lib/locale/C.UTF-8'].some((p) => fs.existsSync(p));
  return hasCUtf8 ? ['--locale=C.UTF-8'] : ['--no-locale'];
}

/**
 * A fresh cluster (initdb, trust auth, superuser `postgres`, fsync off) on
 * 127.0.0.1:<free port>; `url` is `postgres://postgres@127.0.0.1:<port>/postgres`.
 * Its Unix socket is in `dir`. Data survives stop()/kill()/start().
 */
export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBinDir();
  const { uid, gid, env } = postgresIdentity();
  const dir = makeTempDir('lomi-pg');
  const dataDir = path.join(dir, 'data');
  const stopSignal: NodeJS.Signals = 'SIGINT'; // fast shutdown (initdb: clean up and exit)
  const reaper = new Reaper(dir, stopSignal);
  let server: ProcessServer | undefined;
  try {
    if (uid !== undefined && gid !== undefined) fs.chownSync(dir, uid, gid);
    await runToCompletion(
      path.join(bin, 'initdb'),
      ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', ...postgresLocale()],
      { cwd: dir, env, uid, gid, timeoutMs: INITDB_TIMEOUT_MS, reaper },
    );
    const settings = Object.entries(opts.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${String(v)}`]);
    server = new ProcessServer(
      {
        name: 'postgres',
        command: path.join(bin, 'postgres'),
        args: (port) => ['-D', dataDir, '-p', String(port), '-k', dir, '-h', '127.0.0.1', '-F', ...settings],
        cwd: dir,
        env,
        uid,
        gid,
        stopSignal,
        ready: (port) => postgresReady(dir, port),
        startTimeoutMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
        stopTimeoutMs: opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
      },
      dir,
      reaper,
    );
  } catch (e) {
    reaper.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  await startOrCleanup(server);
  return withFields(server, { url: `postgres://postgres@127.0.0.1:${server.port}/postgres`, dataDir });
}

/**
 * Ready = a startup packet as `postgres` gets ReadyForQuery, first over the
 * Unix socket in our own dir (so it is surely OUR postmaster, which would have
 * exited had it failed to bind 127.0.0.1:port), then over TCP.
 */
async function postgresReady(socketDir: string, port: number): Promise<boolean> {
  return (
    (await pgStartupProbe({ path: path.join(socketDir, `.s.PGSQL.${port}`) })) &&
    pgStartupProbe({ host: '127.0.0.1', port })
  );
}

function pgStartupProbe(connect: net.NetConnectOpts): Promise<boolean> {
  return probe(
    connect,
    (sock) => {
      const params = Buffer.from('user\0postgres\0database\0postgres\0\0', 'utf8');
      const head = Buffer.alloc(8);
      head.writeInt32BE(8 + params.length, 0);
      head.writeInt32BE(196608, 4); // protocol 3.0
      sock.write(Buffer.concat([head, params]));
    },
    (buf, sock) => {
      let off = 0;
      while (buf.length - off >= 5) {
        const type = String.fromCharCode(buf[off] as number);
        const len = buf.readInt32BE(off + 1);
        if (buf.length - off < 1 + len) return undefined;
        if (type === 'E') return false; // e.g. "the database system is starting up"
        if (type === 'R' && buf.readInt32BE(off + 5) !== 0) return false; // wants a password: not our trust cluster
        if (type === 'Z') {
          const terminate = Buffer.from([0x58, 0, 0, 0, 4]); // 'X'
          sock.write(terminate);
          return true;
        }
        off += 1 + len;
      }
      return undefined;
    },
  );
}
