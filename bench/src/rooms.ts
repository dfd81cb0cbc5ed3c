// The rooms scenario: many live rooms and private conversations at once on one system under
// test. The rooms are created (ours: through its service API), every peer joins its own room,
// the senders send at each room's rate for one window after a warm-up, and the figures are
// each room's deliveries, the latency of live and private rooms apart, and CPU per delivery.
import path from 'node:path';
import { mergeHistograms } from './histogram';
import type { ConnectResult, PeerSpec, RoomRef, TargetName, WindowResult } from './ipc';
import type { BenchOptions } from './options';
import { nextMessage, type ProcessGroup } from './processes';
import { CpuWindow, infraPids, rssKb } from './proc-stats';
import type { RoomsResult } from './results';
import { startServerTimings } from './server-timings';
import {
  createConversation,
  createLiveRoom,
  drain,
  Generator,
  GENERATOR_CORE,
  latency,
  processGroups,
  startSystem,
  stopSystem,
  sum,
  type SystemUnderTest,
} from './session';

/** Sockets one generator process may hold (20,000 open files here, less its own). */
const MAX_SOCKETS_PER_GENERATOR = 19_000;
/** Service API calls in flight while creating the rooms. */
const CREATE_CONCURRENCY = 32;
const SETTLE_MS = 1000;
/**
 * How long the warm-up's last deliveries are awaited: 20k joins leave the servers work (presence,
 * subscriptions) that the measured window must not inherit as a backlog.
 */
const WARM_UP_DRAIN_S = 30;
/** Warm-up texts are scenario 0; the measured window's are 2, so a late warm-up text is never counted. */
const WARM_UP_SCENARIO = 0;
const SCENARIO = 2;
const MAX_RAMP_S = 1;

interface Rooms {
  live: string[];
  conversations: { id: string; members: [string, string] }[];
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
async function pooled<T, R>(items: T[], concurrency: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return out;
}

/** Ours's rooms are made through its service API, over every gateway; the baselines' are just names. */
async function makeRooms(system: SystemUnderTest, options: BenchOptions): Promise<Rooms> {
  const { liveRooms, conversations } = options.rooms;
  const prefix = system.ours?.userPrefix ?? 'bench-';
  const members = Array.from({ length: conversations }, (_, i): [string, string] => [`${prefix}p${i}a`, `${prefix}p${i}b`]);
  const ours = system.ours;
  if (!ours) {
    return { live: Array.from({ length: liveRooms }, (_, r) => `live-${r}`), conversations: members.map((m, i) => ({ id: `private-${i}`, members: m })) };
  }
  const port = (i: number) => system.ports[i % system.ports.length]!;
  const live = await pooled(
    Array.from({ length: liveRooms }, (_, r) => r),
    CREATE_CONCURRENCY,
    (r) => createLiveRoom(port(r), ours.serviceToken, `${prefix}b${r}`),
  );
  const ids = await pooled(members, CREATE_CONCURRENCY, ([a, b], i) => createConversation(port(i), ours.serviceToken, a, b));
  return { live, conversations: ids.map((id, i) => ({ id, members: members[i]! })) };
}

/**
 * The peers: each live room's chatters and viewers, each conversation's two members (who both
 * send and receive). Consecutive peers go to different servers, so a room's viewers, and a
 * conversation's two members, are spread over them — but for bare uWS, whose topics do not
 * cross processes: there each room has all its peers on one server (`byRoom`).
 */
function layOut(rooms: Rooms, options: BenchOptions, prefix: string, servers: number, byRoom: boolean): { senders: PeerSpec[]; viewers: PeerSpec[] } {
  const { chattersPerRoom, viewersPerRoom } = options.rooms;
  let index = 0;
  let roomOrdinal = 0;
  const senders: PeerSpec[] = [];
  const viewers: PeerSpec[] = [];
  const spec = (user: string, room: RoomRef, receives: boolean, sends: boolean): PeerSpec => {
    const i = index++;
    return { index: i, server: (byRoom ? roomOrdinal : i) % servers, user, room, receives, sends };
  };
  rooms.live.forEach((id, r) => {
    const room: RoomRef = { kind: 'live', id };
    for (let c = 0; c < chattersPerRoom; c++) senders.push(spec(`${prefix}r${r}c${c}`, room, false, true));
    for (let v = 0; v < viewersPerRoom; v++) viewers.push(spec(`${prefix}r${r}v${v}`, room, true, false));
    roomOrdinal++;
  });
  for (const { id, members } of rooms.conversations) {
    for (const user of members) senders.push(spec(user, { kind: 'private', id }, true, true));
    roomOrdinal++;
  }
  return { senders, viewers };
}

/** Every sender in one process (a room's texts are numbered where they are sent), the viewers in as many more as they need. */
function splitOverGenerators(senders: PeerSpec[], viewers: PeerSpec[], options: BenchOptions): PeerSpec[][] {
  if (senders.length > MAX_SOCKETS_PER_GENERATOR)
    throw new Error(`${senders.length} senders do not fit one generator process (at most ${MAX_SOCKETS_PER_GENERATOR} sockets)`);
  const perProcess = Math.min(options.viewersPerGenerator, MAX_SOCKETS_PER_GENERATOR);
  const parts = [senders];
  for (let i = 0; i < viewers.length; i += perProcess) parts.push(viewers.slice(i, i + perProcess));
  return parts;
}

const addUp = (records: (Record<string, number> | undefined)[]) => {
  const total: Record<string, number> = {};
  for (const r of records) for (const [k, n] of Object.entries(r ?? {})) total[k] = (total[k] ?? 0) + n;
  return total;
};

/** Deliveries due: each room's texts to each of its receivers, less the texts receivers sent themselves. */
function expectedDeliveries(windows: WindowResult[], receiversByRoom: Record<string, number>): number {
  const sentByRoom = addUp(windows.map((w) => w.sentByRoom));
  return sum(Object.entries(sentByRoom), ([room, n]) => n * (receiversByRoom[room] ?? 0)) - sum(windows, (w) => w.sentByReceivers ?? 0);
}

export async function runRooms(target: TargetName, group: ProcessGroup, options: BenchOptions): Promise<RoomsResult> {
  const system = await startSystem(target, group, options);
  const generators: Generator[] = [];
  try {
    const createStarted = performance.now();
    const rooms = await makeRooms(system, options);
    const roomsCreatedSeconds = (performance.now() - createStarted) / 1000;
    const { senders, viewers } = layOut(rooms, options, system.ours?.userPrefix ?? 'bench-', system.ports.length, target === 'uws');
    const parts = splitOverGenerators(senders, viewers, options);
    for (const [i] of parts.entries()) {
      const child = group.start(`generator-${i === 0 ? 'senders' : `viewers-${i - 1}`}`, path.join(__dirname, 'generator/main.js'), {
        cpu: GENERATOR_CORE,
        ipc: true,
        profile: true,
      });
      await nextMessage(child, 'starting', 15_000);
      generators.push(new Generator(child));
    }
    const idleKb = system.servers.map((s) => rssKb(s.pid) ?? 0);
    const connects: ConnectResult[] = await Promise.all(
      generators.map((g, i) =>
        g.request(
          {
            type: 'connect-rooms',
            target,
            ports: system.ports,
            peers: parts[i]!,
            concurrency: Math.ceil(options.concurrency / generators.length),
            ...(system.ours ? { jwtSecret: system.ours.jwtSecret } : {}),
          },
          'connected',
          300_000,
        ),
      ),
    );
    const connectedKb = system.servers.map((s) => rssKb(s.pid) ?? 0);
    const receiversByRoom = addUp(connects.map((c) => c.receiversByRoom));
    const roomRates = { live: options.rooms.roomRate, private: 1 / options.rooms.conversationInterval };
    const window = (scenario: number, seconds: number, rampSeconds: number) =>
      Promise.all(generators.map((g) => g.request({ type: 'start', scenario, rate: 0, seconds, rampSeconds, roomRates }, 'window', (seconds + 60) * 1000)));
    const drainWindow = async (windows: WindowResult[], seconds: number) => {
      const [sent, expected] = [sum(windows, (w) => w.sent), expectedDeliveries(windows, receiversByRoom)];
      await drain(generators, windows, (p) => sum(p, (g) => g.deliveries) >= expected && sum(p, (g) => g.acked) >= sent, seconds);
      return expected;
    };
    // Unmeasured, as the live scenario's warm-up: every code path of every process runs warm in the window.
    if (options.warmup > 0) await drainWindow(await window(WARM_UP_SCENARIO, options.warmup, 0), Math.max(options.drain, WARM_UP_DRAIN_S));
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

    const infra = infraPids();
    const cpuWindow = new CpuWindow(processGroups(system, generators));
    const serverTimings = system.ours ? await startServerTimings(system.ours.gatewayMetrics, system.ours.workerMetrics) : undefined;
    const windows = await window(SCENARIO, options.seconds, Math.min(MAX_RAMP_S, options.seconds / 4));
    const { processes: cpu, cores } = cpuWindow.end();
    const timings = await serverTimings?.();
    const expected = await drainWindow(windows, options.drain);
    const sentByRoom = addUp(windows.map((w) => w.sentByRoom));
    const collected = await Promise.all(generators.map((g) => g.request({ type: 'collect', expectedPerViewer: 0, expectedByRoom: sentByRoom }, 'collected', 30_000)));

    const sent = sum(windows, (w) => w.sent);
    const acked = sum(collected, (c) => c.acked);
    const delivered = sum(collected, (c) => c.deliveries);
    const windowSeconds = Math.max(...windows.map((w) => w.windowSeconds));
    const deliveriesPerSecond = sum(windows, (w) => w.deliveriesSteady) / Math.min(...windows.map((w) => w.steadySeconds));
    const infraCpu: Record<string, number> = {};
    for (const name of infra.keys()) infraCpu[name] = cpu[name] ?? 0;
    const ownCpu: Record<string, number> = {};
    for (const c of [...system.servers, ...system.helpers]) ownCpu[c.name] = cpu[c.name] ?? 0;
    ownCpu.generator = cpu.generator ?? 0;
    const cpuUsPerDelivery: Record<string, number> = {};
    for (const [name, cores] of Object.entries({ ...ownCpu, ...infraCpu })) cpuUsPerDelivery[name] = deliveriesPerSecond ? (cores * 1e6) / deliveriesPerSecond : 0;
    const measuredCpu = sum(Object.values(ownCpu), (c) => c) + sum(Object.values(infraCpu), (c) => c);
    return {
      target,
      layout: options.rooms,
      ...(system.ours ? { roomsCreatedSeconds } : {}),
      sockets: senders.length + viewers.length,
      connect: {
        seconds: Math.max(...connects.map((c) => c.seconds)),
        receivers: sum(connects, (c) => c.joined),
        senders: sum(connects, (c) => c.chatters),
        failed: sum(connects, (c) => c.failed),
        errors: connects.flatMap((c) => c.errors),
      },
      windowSeconds,
      sent,
      acked,
      ackErrors: addUp(collected.map((c) => c.ackErrors)),
      expected,
      delivered,
      fraction: expected ? delivered / expected : 0,
      viewersShort: sum(collected, (c) => c.viewersShort),
      outOfOrder: sum(collected, (c) => c.outOfOrder),
      viewerCloses: addUp(collected.map((c) => c.closes)),
      sendsPerSecond: sent / windowSeconds,
      offeredPerSecond: expected / windowSeconds,
      deliveriesPerSecond,
      live: { latencyMs: latency(mergeHistograms(collected.map((c) => c.latency))), ackMs: latency(mergeHistograms(collected.map((c) => c.ack))) },
      private: { latencyMs: latency(mergeHistograms(collected.map((c) => c.privateLatency))), ackMs: latency(mergeHistograms(collected.map((c) => c.privateAck))) },
      ...(timings ? { serverTimings: timings } : {}),
      cpu: ownCpu,
      infraCpu,
      cpuUsPerDelivery,
      cores,
      otherCpu: Math.max(0, sum(cores, (c) => c) - measuredCpu),
      generator: { cpu: Math.max(...windows.map((w) => w.cpu)), loopDelayP99Ms: Math.max(...windows.map((w) => w.loopDelayP99Ms)), processes: generators.length },
      memory: system.servers.map((s, i) => ({ name: s.name, idleKb: idleKb[i]!, connectedKb: connectedKb[i]! })),
      drained: delivered >= expected && acked >= sent,
    };
  } finally {
    await Promise.all(generators.map((g) => group.stop(g.child)));
    await stopSystem(group, system);
  }
}
