// What a hop between two processes costs on this machine: a 100-byte round trip over loopback
// TCP (two writes, two reads, two wake-ups), and a NATS request/reply between two processes
// (two such round trips, through the NATS server). A send of ours makes three TCP round trips
// before its ack that the bare uWS baseline does not (gateway ⇄ NATS ⇄ worker ⇄ Redis, the
// first two being the NATS request/reply), so these figures say how much of the gap between
// them is the machine's: where system calls trap to a hypervisor, a hop costs many times bare
// metal's.
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { connectNatsBus } from '@lomi/bus';
import { createLogger } from '@lomi/service-runtime';
import { nextMessage, type ProcessGroup } from './processes';
import { SERVER_CORE, serverEnv } from './session';

const ROUND_TRIPS = 2000;
const NATS_REQUESTS = 1000;
/** NATS requests go one every this many ms, as a room's sends at 500 msg/s would. */
export const NATS_SPACING_MS = 2;
const PAYLOAD = Buffer.alloc(100, 'x');

export interface HopCost {
  p50Us: number;
  p99Us: number;
  natsP50Us: number;
  natsP99Us: number;
}

function percentiles(times: number[]): { p50: number; p99: number } {
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, p99: times[Math.floor(times.length * 0.99)]! };
}

async function natsRoundTrips(subject: string): Promise<number[]> {
  const bus = await connectNatsBus(serverEnv().NATS_URL, 'bench-hop-probe', createLogger('hop-probe', 'silent'), { requestTimeoutMs: 5000 });
  try {
    const times: number[] = [];
    for (let i = 0; i < NATS_REQUESTS; i++) {
      const started = performance.now();
      await bus.request(subject, PAYLOAD);
      times.push((performance.now() - started) * 1000);
      await new Promise((resolve) => setTimeout(resolve, NATS_SPACING_MS));
    }
    return times;
  } finally {
    await bus.drain();
  }
}

export async function measureHopCost(group: ProcessGroup): Promise<HopCost> {
  const subject = `bench.hop.${randomBytes(6).toString('hex')}`;
  const echo = group.start('hop-echo', path.join(__dirname, 'hop-echo.js'), {
    cpu: SERVER_CORE,
    ipc: true,
    env: { NATS_URL: serverEnv().NATS_URL, HOP_SUBJECT: subject },
  });
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
    const tcp = percentiles(times);
    const nats = percentiles(await natsRoundTrips(subject));
    return { p50Us: tcp.p50, p99Us: tcp.p99, natsP50Us: nats.p50, natsP99Us: nats.p99 };
  } finally {
    await group.stop(echo);
  }
}
