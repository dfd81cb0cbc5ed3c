// What this process started must not outlive it, however it ends: cleanups registered here run
// synchronously on process 'exit'; a Reaper also covers the deaths that run no 'exit' handler
// (SIGTERM, SIGKILL, a crashed jest worker).
import { spawn, type ChildProcess } from 'node:child_process';
import type net from 'node:net';

const exitCleanups = new Set<() => void>();

function runExitCleanups(): void {
  for (const cleanup of exitCleanups) cleanup();
}

/** Runs `cleanup` (synchronous) if this process exits before the returned release is called. */
export function cleanUpOnExit(cleanup: () => void): () => void {
  exitCleanups.add(cleanup);
  if (exitCleanups.size === 1) process.on('exit', runExitCleanups);
  return () => {
    if (exitCleanups.delete(cleanup) && exitCleanups.size === 0) process.removeListener('exit', runExitCleanups);
  };
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
