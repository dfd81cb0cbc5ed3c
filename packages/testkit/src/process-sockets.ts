// The TCP sockets a process holds, read from /proc (Linux): which ports it listens on or talks
// to. Lets a test show that a process never connected to a server, without trusting its logs.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessSocket {
  localPort: number;
  remotePort: number;
  /** /proc/net/tcp state: 0A = listening, 01 = established, 02 = SYN sent… */
  state: string;
}

/** The TCP (v4 and v6) sockets `pid` holds now; empty once it has exited. */
export function processSockets(pid: number): ProcessSocket[] {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed while we read
    }
  }
  const sockets: ProcessSocket[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || !inodes.has(cols[9]!)) continue;
      const port = (address: string) => parseInt(address.split(':')[1]!, 16);
      sockets.push({ localPort: port(cols[1]!), remotePort: port(cols[2]!), state: cols[3]! });
    }
  }
  return sockets;
}

/** Samples `pid`'s sockets every `everyMs` until stopped; `seen` holds every socket seen so far. */
export function watchProcessSockets(pid: number, everyMs = 20): { seen: ProcessSocket[]; stop(): void } {
  const seen: ProcessSocket[] = [];
  const keys = new Set<string>();
  const sample = () => {
    for (const socket of processSockets(pid)) {
      const key = `${socket.localPort}>${socket.remotePort}/${socket.state}`;
      if (!keys.has(key)) {
        keys.add(key);
        seen.push(socket);
      }
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return { seen, stop: () => clearInterval(timer) };
}
