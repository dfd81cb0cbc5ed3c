/**
 * A private server process for fault tests: started from this machine's Debian binaries on a
 * free loopback port, owned by this process and controlled by PID, so a test can stop, SIGKILL
 * or restart it without touching the shared services on the standard ports. nats-server.ts,
 * redis-server.ts and postgres-server.ts say how each one starts and when it is ready.
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
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';
import { isAlive, killTreeSync, signalQuietly } from './process-tree';
import { cleanUpOnExit, Reaper } from './reaper';

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

export interface StartOptions {
  /** How long to wait for the server to answer after spawning it (default 15000). */
  startTimeoutMs?: number;
  /** How long stop() waits for a graceful exit before SIGKILL (default 15000). */
  stopTimeoutMs?: number;
}

const DEFAULT_START_TIMEOUT_MS = 15_000;
const DEFAULT_STOP_TIMEOUT_MS = 15_000;
export const OUTPUT_KEEP_CHARS = 64 * 1024;
export const ERROR_TAIL_LINES = 40;
const PORT_RETRIES = 3;
const ADDR_IN_USE = /address already in use|could not create any TCP\/IP sockets/i;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function tailLines(text: string, n: number): string {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n).join('\n');
}

/** A temp dir with a short path (Unix socket paths are limited to ~107 bytes). */
export function makeTempDir(prefix: string): string {
  let base = os.tmpdir();
  if (base.length > 60) base = '/tmp';
  return fs.mkdtempSync(path.join(base, `${prefix}-`));
}

/** `opts`' timeouts, the defaults filled in. */
export function timeoutsOf(opts: StartOptions): Required<StartOptions> {
  return {
    startTimeoutMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    stopTimeoutMs: opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
  };
}

export interface ServerSpec {
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

export class ProcessServer implements OwnedServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private lastPid = 0;
  private portNo = 0;
  private out = '';
  private disposed = false;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly releaseOnExit: () => void;

  constructor(
    private readonly spec: ServerSpec,
    readonly dir: string,
    private readonly reaper: Reaper = new Reaper(dir, spec.stopSignal),
  ) {
    this.releaseOnExit = cleanUpOnExit(() => this.emergencyCleanupSync());
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
        this.releaseOnExit();
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
      child.once('error', (err) => reject(new Error(`${spec.name}: could not run ${spec.command}: ${err.message}`)));
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
        throw new StartError(`${spec.name} exited (${exitInfo}) before it was ready on 127.0.0.1:${port}`, this.output());
      }
      const ok = await Promise.race([spec.ready(port, pid), exited.then(() => false)]);
      if (ok && exitInfo === undefined) return;
      if (Date.now() >= deadline) break;
      await Promise.race([sleep(delay), exited]);
      delay = Math.min(delay * 2, 200);
    }
    killTreeSync(pid);
    await this.waitExit(5_000);
    throw new StartError(`${spec.name} did not become ready on 127.0.0.1:${port} within ${spec.startTimeoutMs} ms`, this.output());
  }

  /**
   * Waits for the current child to exit, up to `timeoutMs`; true if it did.
   * The child and its pipes are unref'd, so the ref'd timer here is what keeps
   * the event loop alive while we wait.
   */
  private async waitExit(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
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
export function withFields<T extends object, U extends object>(server: T, extra: U): T & U {
  for (const [k, v] of Object.entries(extra)) {
    Object.defineProperty(server, k, { value: v, enumerable: true });
  }
  return server as T & U;
}

export async function startOrCleanup(server: ProcessServer): Promise<void> {
  try {
    await server.startOnFreePort();
  } catch (e) {
    await server.dispose().catch(() => undefined);
    throw e;
  }
}
