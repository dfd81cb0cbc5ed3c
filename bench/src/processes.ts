// Every process the bench starts goes through one ProcessGroup, which pins it to a core when
// asked (taskset), logs its output to a file, and stops it by pid — also when the run fails
// or is interrupted.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface Child {
  name: string;
  pid: number;
  proc: ChildProcess;
  log: string;
  exited: Promise<void>;
  exitCode?: number | null;
}

const STOP_GRACE_MS = 5000;

export class ProcessGroup {
  private readonly children = new Set<Child>();
  /** Stops of things started outside the group (the clustered engines), run by stopAll. */
  private readonly adopted = new Set<() => Promise<void>>();
  private profiles = 0;

  constructor(
    readonly logDir: string,
    private readonly pin: boolean,
    /** Where server processes write V8 CPU profiles (--profile); none when undefined. */
    private readonly profileDir?: string,
  ) {}

  /**
   * Starts `node script` with the given environment; `cpu` pins it when pinning is on, `profile`
   * has it write a CPU profile on exit when profiling is on.
   */
  start(
    name: string,
    script: string,
    options: { env?: Record<string, string>; unset?: string[]; cpu?: number; ipc?: boolean; profile?: boolean; nodeFlags?: readonly string[] } = {},
  ): Child {
    const log = path.join(this.logDir, `${name}.log`);
    const fd = openSync(log, 'a');
    const profiling =
      options.profile && this.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${this.profileDir}`, `--cpu-prof-name=${name}-${++this.profiles}.cpuprofile`] : [];
    const node = [process.execPath, ...(options.nodeFlags ?? []), ...profiling, script];
    const [command, ...args] = this.pin && options.cpu !== undefined ? ['taskset', '-c', String(options.cpu), ...node] : node;
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    for (const name of options.unset ?? []) delete env[name];
    const proc = spawn(command!, args, {
      env,
      stdio: ['ignore', fd, fd, ...(options.ipc ? (['ipc'] as const) : [])],
    });
    closeSync(fd);
    if (proc.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    const child: Child = {
      name,
      pid: proc.pid,
      proc,
      log,
      exited: new Promise((resolve) =>
        proc.once('exit', (code) => {
          child.exitCode = code;
          this.children.delete(child);
          resolve();
        }),
      ),
    };
    this.children.add(child);
    return child;
  }

  /** Writes a file for the processes to read into the run's log folder; returns its path. */
  writeFile(name: string, text: string): string {
    const file = path.join(this.logDir, name);
    writeFileSync(file, text);
    return file;
  }

  async stop(child: Child): Promise<void> {
    if (child.exitCode !== undefined) return;
    child.proc.kill('SIGTERM');
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), STOP_GRACE_MS);
    await child.exited;
    clearTimeout(timer);
  }

  /** SIGKILL to every process still running, at once: for an exit that cannot wait for stop(). */
  killAllNow(): void {
    for (const child of this.children) child.proc.kill('SIGKILL');
  }

  /** Has stopAll run `stop` too, unless released first. */
  adopt(stop: () => Promise<void>): void {
    this.adopted.add(stop);
  }

  /** Runs an adopted stop now, once. */
  async release(stop: () => Promise<void>): Promise<void> {
    if (this.adopted.delete(stop)) await stop();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...[...this.children].map((c) => this.stop(c)), ...[...this.adopted].map((stop) => this.release(stop))]);
  }

  get running(): number {
    return this.children.size;
  }
}

export function logTail(child: Child, lines = 15): string {
  try {
    return readFileSync(child.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function exitedError(child: Child, waitingFor: string): Error {
  return new Error(`${child.name} exited (code ${child.exitCode}) while ${waitingFor}; last lines of ${child.log}:\n${logTail(child)}`);
}

/** The next IPC message from `child`, failing if it exits first or takes longer than timeoutMs. */
export function nextMessage<T>(child: Child, waitingFor: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.proc.off('message', onMessage);
      child.proc.off('exit', onExit);
    };
    const onMessage = (m: T) => {
      done();
      resolve(m);
    };
    const onExit = () => {
      done();
      reject(exitedError(child, waitingFor));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${child.name}: no answer within ${timeoutMs} ms while ${waitingFor}`));
    }, timeoutMs);
    if (child.exitCode !== undefined) return onExit();
    child.proc.on('message', onMessage);
    child.proc.once('exit', onExit);
  });
}

/** Polls `url` until it answers 2xx. */
export async function waitForHttp(child: Child, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== undefined) throw exitedError(child, `waiting for ${url}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${child.name}: ${url} not ready after ${timeoutMs} ms; see ${child.log}`);
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
