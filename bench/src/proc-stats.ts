// Server-side figures from /proc: resident memory and CPU time of a process, busy time of each
// core (to see load from processes that are not part of the run), and the shared servers.
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ; 100 on every Linux this runs on (`getconf CLK_TCK`). */
const TICKS_PER_SECOND = 100;

export function rssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds used so far, or undefined once the process is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces; fields after it are fixed (utime, stime = 14, 15).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Busy and total seconds of each core since boot. */
export function coreSeconds(): { busy: number; total: number }[] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((line) => /^cpu\d+ /.test(line))
    .map((line) => {
      const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
      const busy = user! + nice! + system! + irq! + softirq! + steal!;
      return { busy: busy / TICKS_PER_SECOND, total: (busy + idle! + iowait!) / TICKS_PER_SECOND };
    });
}

/** Shared servers the run uses but did not start (also used by anyone else on this machine). */
export function infraPids(): Map<string, number[]> {
  const found = new Map<string, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (comm === 'nats-server' || comm === 'redis-server' || comm === 'postgres') {
      found.set(comm, [...(found.get(comm) ?? []), Number(entry)]);
    }
  }
  return found;
}

/** CPU use between two points in time, in cores (1 = one core fully busy). */
export class CpuWindow {
  private readonly started = performance.now();
  private readonly before: Map<string, number>;
  private readonly coresBefore = coreSeconds();

  constructor(private readonly groups: Map<string, number[]>) {
    this.before = this.sample();
  }

  private sample(): Map<string, number> {
    const totals = new Map<string, number>();
    for (const [name, pids] of this.groups)
      totals.set(
        name,
        pids.reduce((s, pid) => s + (cpuSeconds(pid) ?? 0), 0),
      );
    return totals;
  }

  end(): { processes: Record<string, number>; cores: number[] } {
    const seconds = (performance.now() - this.started) / 1000;
    const after = this.sample();
    const processes: Record<string, number> = {};
    for (const [name, total] of after) processes[name] = Math.max(0, total - (this.before.get(name) ?? 0)) / seconds;
    const cores = coreSeconds().map((c, i) => {
      const b = this.coresBefore[i]!;
      return (c.busy - b.busy) / Math.max(1e-9, c.total - b.total);
    });
    return { processes, cores };
  }
}
