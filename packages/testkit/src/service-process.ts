// One service as deployed: `node services/<svc>/dist/main.js` in a child process of its own,
// configured by environment, so a test can SIGKILL, SIGTERM, SIGSTOP or restart it by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { GATEWAY_NODE_FLAGS, SERVICE_NODE_FLAGS } from '@lomi/service-runtime';
import { cleanUpOnExit, Reaper } from './reaper';

export type ServiceKind = 'gateway' | 'message-worker' | 'presence-worker' | 'moderation-worker';

const OUTPUT_KEEP_LINES = 200;
const READY_TIMEOUT_MS = 30_000;

/** A service's built entry point in this workspace: spawned by path, so the test kit imports no service. */
export function serviceMain(kind: ServiceKind): string {
  return path.resolve(__dirname, '../../../services', kind, 'dist/main.js');
}

/** The log line (pino JSON, `msg`) each service writes once it takes requests. */
function isReadyLine(kind: ServiceKind, line: { msg?: string }): boolean {
  return kind === 'gateway' ? line.msg === 'gateway listening' : line.msg === `${kind} started`;
}

export class ServiceProcess {
  private child: ChildProcess | undefined;
  private lines: string[] = [];
  private portNo = 0;
  private metricsPortNo = 0;
  private reaper: Reaper | undefined;
  /** Resolves when the current process exits, with how it exited ("code 0", "signal SIGKILL"). */
  exited: Promise<string> = Promise.resolve('not started');

  constructor(
    readonly kind: ServiceKind,
    /** For errors and figures, e.g. "gateway-1". */
    readonly name: string,
    private readonly env: Record<string, string>,
    /** Run from this production install (deploy/install-production.sh) instead of the workspace. */
    private readonly root?: string,
  ) {}

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /** A gateway's WebSocket and HTTP port; it keeps it across restarts. 0 for workers. */
  get port(): number {
    return this.portNo;
  }

  /** Port of its /metrics, /healthz and /readyz, from its start-up line. */
  get metricsPort(): number {
    return this.metricsPortNo;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.portNo}`;
  }

  /** Last lines the service wrote (stdout and stderr), for failure messages. */
  output(lines = 40): string {
    return this.lines.slice(-lines).join('\n');
  }

  /** Starts the service (again, on the same port for a gateway) and resolves once it is ready. */
  async start(): Promise<void> {
    if (this.child) return;
    const flags = this.kind === 'gateway' ? GATEWAY_NODE_FLAGS : SERVICE_NODE_FLAGS;
    const main = this.root ? `node_modules/@lomi/${this.kind}/dist/main.js` : serviceMain(this.kind);
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.env, LOG_LEVEL: 'info', ...(this.portNo ? { PORT: String(this.portNo) } : {}) };
    // From a production install, nothing may come from the workspace's node_modules.
    if (this.root) for (const name of ['NODE_PATH', 'NODE_OPTIONS']) delete env[name];
    const child = spawn(process.execPath, [...flags, main], { env, cwd: this.root, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const releaseOnExit = cleanUpOnExit(() => child.kill('SIGKILL'));
    // A crashed or SIGKILLed test process must not leave services behind, retrying forever.
    this.reaper = new Reaper('', 'SIGKILL');
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        releaseOnExit();
        this.reaper?.dispose();
        if (this.child === child) this.child = undefined;
        this.keep(`--- exited (${signal ? `signal ${signal}` : `code ${String(code)}`})`);
        resolve(signal ? `signal ${signal}` : `code ${String(code)}`);
      }),
    );
    const ready = new Promise<void>((resolve, reject) => {
      for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on('line', (text) => {
          this.keep(text);
          let line: { msg?: string; port?: number; metricsPort?: number };
          try {
            line = JSON.parse(text) as typeof line;
          } catch {
            return;
          }
          if (!isReadyLine(this.kind, line)) return;
          if (line.port) this.portNo = line.port;
          if (line.metricsPort) this.metricsPortNo = line.metricsPort;
          resolve();
        });
      }
      void this.exited.then((how) => reject(new Error(`${this.name} exited (${how}) before it was ready:\n${this.output()}`)));
    });
    await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
    this.reaper.tell(child.pid!);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name} not ready within ${READY_TIMEOUT_MS} ms:\n${this.output()}`)), READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL, like a crashed pod: nothing is closed cleanly. Resolves once it exited. */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, like Kubernetes before a pod goes; resolves with how it exited. */
  async terminate(): Promise<string> {
    if (!this.child) return this.exited;
    this.child.kill('SIGTERM');
    return this.exited;
  }

  /** SIGSTOP: the process holds its connections but answers nothing (a long GC pause, a frozen VM). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  private keep(line: string): void {
    this.lines.push(line);
    if (this.lines.length > OUTPUT_KEEP_LINES * 2) this.lines = this.lines.slice(-OUTPUT_KEEP_LINES);
  }
}

/** Spawns a service and waits until it is ready. */
export async function spawnService(kind: ServiceKind, name: string, env: Record<string, string>, root?: string): Promise<ServiceProcess> {
  const service = new ServiceProcess(kind, name, env, root);
  await service.start();
  return service;
}
