// What a hop between two processes costs on this machine: a 100-byte round trip over loopback
// TCP (two writes, two reads, two wake-ups). A send of ours makes three such round trips before
// its ack (gateway ⇄ NATS ⇄ worker ⇄ Redis), the bare uWS baseline none, so this figure says how
// much of the gap between them is the machine's: where system calls trap to a hypervisor, a
// hop costs many times what it does on bare metal.
import net from 'node:net';
import path from 'node:path';
import { nextMessage, type ProcessGroup } from './processes';
import { SERVER_CORE } from './session';

const ROUND_TRIPS = 2000;
const PAYLOAD = Buffer.alloc(100, 'x');

export interface HopCost {
  p50Us: number;
  p99Us: number;
}

export async function measureHopCost(group: ProcessGroup): Promise<HopCost> {
  const echo = group.start('hop-echo', path.join(__dirname, 'hop-echo.js'), { cpu: SERVER_CORE, ipc: true });
  try {
    const { port } = await nextMessage<{ port: number }>(echo, 'the echo server to listen', 10_000);
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const times: number[] = [];
    await new Promise<void>((resolve, reject) => {
      let started = performance.now();
      let pending = PAYLOAD.length;
      socket.on('error', reject);
      socket.on('data', (data) => {
        pending -= data.length;
        if (pending > 0) return;
        times.push((performance.now() - started) * 1000);
        if (times.length === ROUND_TRIPS) return resolve();
        pending = PAYLOAD.length;
        started = performance.now();
        socket.write(PAYLOAD);
      });
      socket.write(PAYLOAD);
    });
    socket.destroy();
    times.sort((a, b) => a - b);
    return { p50Us: times[Math.floor(ROUND_TRIPS / 2)]!, p99Us: times[Math.floor(ROUND_TRIPS * 0.99)]! };
  } finally {
    await group.stop(echo);
  }
}
