// One system under test with its viewers connected: starts the servers (pinned to core 0), the
// generator processes (core 1), connects the chatters and warms the servers up with their sends,
// connects and joins the viewers, measures memory, and runs scenarios on it.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { mergeHistograms, quantileMs, type HistogramData } from './histogram';
import type { CollectResult, ConnectResult, GeneratorCommand, GeneratorReply, Progress, TargetName, WindowResult } from './ipc';
import { connectRedis, createKeys, createLogger, deleteMatching, SERVICE_NODE_FLAGS } from '@lomi/common';
import { dropSchema } from '@lomi/db';
import { GATEWAY_NODE_FLAGS } from '@lomi/gateway/dist/node-flags';
import { CpuWindow, infraPids, rssKb } from './proc-stats';
import { startServerTimings } from './server-timings';
import { wordListFile } from './payload';
import { nextMessage, freePort, sleep, waitForHttp, type Child, type ProcessGroup } from './processes';
import type { BenchOptions } from './options';
import { FAN_OUT_WARM_UP, type ConnectFigures, type FanOutWarmUpFigures, type LatencyMs, type ProcessMemory, type ScenarioResult, type WarmUpFigures } from './results';

const ROOT = path.resolve(__dirname, '../..');
export const SERVER_CORE = 0;
export const GENERATOR_CORE = 1;
const SETTLE_MS = 2000;
/**
 * How long the sockets sit idle before their memory is measured. V8 hands back the heap a
 * connect burst grew only once its memory reducer sees the process idle (about 8–10 s here):
 * measured sooner, a gateway's figure is the burst's garbage, not what an idle viewer costs.
 */
const IDLE_SETTLE_MS = 12_000;
const MAX_RAMP_S = 1;
/**
 * Scenario numbers of the two warm-ups; measured scenarios come after them, so a late warm-up
 * message is never counted in one. Each needs its own: a send's client_msg_id is made of its
 * scenario and number, and ours would take a second "0-17" from a chatter for a retry of its
 * first and store nothing.
 */
const WARM_UP = { sends: 0, fanOut: 1 } as const;
const FIRST_SCENARIO = 2;
const PROGRESS_POLL_MS = 200;
// A generator at full CPU is not necessarily the bottleneck: reads then simply carry more frames
// each (it keeps up with 2M deliveries/s over 1k sockets). It is the bottleneck when its event
// loop lags (deliveries wait in socket buffers, adding to the measured latency) or when it is
// busy while deliveries fall behind the offered rate.
const GENERATOR_SATURATED_LAG_MS = 50;
const GENERATOR_BUSY_CPU = 0.95;
const KEPT_UP = 0.97;
const SATURATED_CPU = 0.85;
const NOISY_CPU = 0.25;

interface SystemUnderTest {
  ports: number[];
  /** Processes holding the sockets, pinned to the server core; their memory per connection is reported. */
  servers: Child[];
  /**
   * Our storage path (message and presence workers): not pinned, like the NATS, Redis and
   * Postgres they drive. The baselines store nothing, and in production these run on other
   * machines than the gateways; sharing core 0 with the gateways would charge the fan-out
   * comparison with work the baselines do not do.
   */
  helpers: Child[];
  ours?: { namespace: string; roomId: string; jwtSecret: string; userPrefix: string; gatewayMetrics: string[]; workerMetrics: string[] };
}

export const serverEnv = () => ({
  NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  LOG_LEVEL: 'warn',
});

async function startOurs(group: ProcessGroup, options: BenchOptions): Promise<SystemUnderTest> {
  // A namespace of our own: no subject or key of anyone else's data is touched.
  const namespace = `bench${randomBytes(4).toString('hex')}`;
  const jwtSecret = randomBytes(32).toString('hex');
  const serviceToken = randomBytes(24).toString('hex');
  const env = { ...serverEnv(), LOMI_NAMESPACE: namespace, ACK_DURABILITY: options.durability[0]! };
  const workerEnv = { ...env, ...(options.wordList[0] ? { WORD_FILTER_FILE: group.writeFile(`word-list-${options.wordList[0]}.txt`, wordListFile(options.wordList[0])) } : {}) };
  const helpers: Child[] = [];
  const workerMetrics: string[] = [];
  for (let i = 0; i < options.workers; i++) {
    const metricsPort = await freePort();
    const worker = group.start(`message-worker-${i}`, path.join(ROOT, 'services/message-worker/dist/main.js'), {
      env: { ...workerEnv, METRICS_PORT: String(metricsPort) },
      profile: true,
      // As deployed (k8s/message-worker.yaml).
      nodeFlags: SERVICE_NODE_FLAGS,
    });
    helpers.push(worker);
    workerMetrics.push(`http://127.0.0.1:${metricsPort}/metrics`);
    await waitForHttp(worker, `http://127.0.0.1:${metricsPort}/healthz`);
  }
  helpers.push(
    group.start('presence-worker', path.join(ROOT, 'services/presence-worker/dist/main.js'), { env, profile: true, nodeFlags: SERVICE_NODE_FLAGS }),
  );
  const servers: Child[] = [];
  const ports: number[] = [];
  const gatewayMetrics: string[] = [];
  // Every viewer and chatter connects from 127.0.0.1, 10k of them in a second or two: the
  // per-address limits, sized for a carrier's NAT, would refuse most of them.
  const unlimited = String(1_000_000);
  for (let i = 0; i < options.gateways; i++) {
    const port = await freePort();
    const metricsPort = await freePort();
    const gateway = group.start(`gateway-${i}`, path.join(ROOT, 'services/gateway/dist/main.js'), {
      env: {
        ...env,
        HOST: '127.0.0.1',
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        JWT_SECRET: jwtSecret,
        SERVICE_TOKEN: serviceToken,
        MAX_CONNECTIONS_PER_IP: unlimited,
        MAX_HANDSHAKES_PER_S_PER_IP: unlimited,
      },
      cpu: SERVER_CORE,
      profile: true,
      // As deployed (k8s/gateway.yaml).
      nodeFlags: GATEWAY_NODE_FLAGS,
    });
    servers.push(gateway);
    ports.push(port);
    gatewayMetrics.push(`http://127.0.0.1:${metricsPort}/metrics`);
    await waitForHttp(gateway, `http://127.0.0.1:${port}/readyz`);
  }
  const res = await fetch(`http://127.0.0.1:${ports[0]}/api/v1/live`, {
    method: 'POST',
    headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ broadcaster_id: `${namespace}-broadcaster` }),
  });
  const body = (await res.json()) as { id?: string };
  if (res.status !== 201 || !body.id) throw new Error(`creating the live room failed: ${res.status} ${JSON.stringify(body)}`);
  return { ports, servers, helpers, ours: { namespace, roomId: body.id, jwtSecret, userPrefix: `${namespace}-`, gatewayMetrics, workerMetrics } };
}

async function startBaseline(group: ProcessGroup, name: string, script: string, env: Record<string, string>): Promise<{ child: Child; port: number }> {
  const child = group.start(name, path.join(__dirname, 'baselines', script), { env, cpu: SERVER_CORE, ipc: true, profile: true });
  const { port } = await nextMessage<{ port: number }>(child, 'starting', 15_000);
  return { child, port };
}

async function startSystem(target: TargetName, group: ProcessGroup, options: BenchOptions): Promise<SystemUnderTest> {
  if (target === 'ours') return startOurs(group, options);
  if (target === 'uws') {
    const { child, port } = await startBaseline(group, 'uws', 'uws-server.js', {});
    return { ports: [port], servers: [child], helpers: [] };
  }
  // As many Socket.IO nodes as we have gateways, sharing the room through Redis.
  const env = { ...serverEnv(), SOCKETIO_KEY: `bench-${randomBytes(4).toString('hex')}` };
  const nodes = [];
  for (let i = 0; i < options.gateways; i++) nodes.push(await startBaseline(group, `socketio-${i}`, 'socketio-server.js', env));
  return { ports: nodes.map((n) => n.port), servers: nodes.map((n) => n.child), helpers: [] };
}

class Generator {
  constructor(readonly child: Child) {}

  async request<T extends GeneratorReply['type']>(command: GeneratorCommand, expect: T, timeoutMs: number): Promise<Extract<GeneratorReply, { type: T }>> {
    this.child.proc.send(command);
    const reply = await nextMessage<GeneratorReply>(this.child, `answering ${command.type}`, timeoutMs);
    if (reply.type === 'failed') throw new Error(`${this.child.name} failed at ${command.type}: ${reply.error}`);
    if (reply.type !== expect) throw new Error(`${this.child.name} answered ${reply.type} to ${command.type}`);
    return reply as Extract<GeneratorReply, { type: T }>;
  }
}

const sum = <T>(items: T[], f: (t: T) => number) => items.reduce((s, t) => s + f(t), 0);

/** Polls the generators until `done` says everything arrived, or for at most `seconds`. */
async function drain(generators: Generator[], first: Progress[], done: (progress: Progress[]) => boolean, seconds: number): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  let progress = first;
  while (!done(progress) && performance.now() <= deadline) {
    await sleep(PROGRESS_POLL_MS);
    progress = await Promise.all(generators.map((g) => g.request({ type: 'progress' }, 'progress', 30_000)));
  }
}

/** The chatters (the first generator) send at `rate` for `seconds`; every generator records `scenario`. */
function sendWindow(generators: Generator[], scenario: number, rate: number, seconds: number, rampSeconds: number): Promise<WindowResult[]> {
  return Promise.all(
    generators.map((g, i) => g.request({ type: 'start', scenario, rate: i === 0 ? rate : 0, seconds, rampSeconds }, 'window', (seconds + 60) * 1000)),
  );
}

/** Waits up to `seconds` for the window's sends to be acked and delivered to every viewer, then collects the figures. */
async function drainAndCollect(generators: Generator[], windows: WindowResult[], viewers: number, seconds: number): Promise<CollectResult[]> {
  const sent = sum(windows, (w) => w.sent);
  await drain(generators, windows, (p) => sum(p, (g) => g.deliveries) >= sent * viewers && sum(p, (g) => g.acked) >= sent, seconds);
  return Promise.all(generators.map((g) => g.request({ type: 'collect', expectedPerViewer: sent }, 'collected', 30_000)));
}

/**
 * The chatters send alone at the highest rate for --warmup seconds, before any viewer connects,
 * and the figures are kept apart from every scenario's. A freshly started Node process runs its
 * code unoptimised until V8 has seen it run thousands of times, and a deployed service has
 * long been warm when a stream starts: measured cold, our 1k × 500 msg/s ack p99 was 68–138 ms
 * in the first window and 17–44 ms from the third on (`--rates 500,500,...`, three runs).
 * Every system under test gets the same warm-up.
 */
async function warmUpSends(chatters: Generator, options: BenchOptions): Promise<WarmUpFigures | undefined> {
  if (options.warmup <= 0) return undefined;
  const rate = Math.max(...options.rates);
  const start: GeneratorCommand = { type: 'start', scenario: WARM_UP.sends, rate, seconds: options.warmup, rampSeconds: 0 };
  const window = await chatters.request(start, 'window', (options.warmup + 60) * 1000);
  await drain([chatters], [window], ([p]) => p!.acked >= p!.sent, options.drain);
  const { sent, acked, ack } = await chatters.request({ type: 'collect', expectedPerViewer: 0 }, 'collected', 30_000);
  return { rate, seconds: options.warmup, sent, acked, ackMs: latency(ack) };
}

/**
 * Then, with the viewers joined, the chatters send for FAN_OUT_WARM_UP.seconds more, so that the code
 * that delivers is warm too: each server's fan-out and the generators' reading run for the first
 * time here. Without it the first window at the highest rate measured their tiering: at 1k
 * viewers our first 500 msg/s window had an ack p99 of 19–36 ms and the ones after it 9–17 ms
 * (`--rates 500,500,500`, nine sessions), and a 100 msg/s window before it did not help (21–22
 * ms after one). Every system gets the same, unmeasured; its deliveries are awaited, so no
 * backlog of it reaches the first scenario.
 */
async function warmUpFanOut(generators: Generator[], viewers: number, options: BenchOptions): Promise<FanOutWarmUpFigures | undefined> {
  if (options.warmup <= 0 || viewers === 0) return undefined;
  const { deliveries, seconds, drainSeconds } = FAN_OUT_WARM_UP;
  const rate = Math.min(Math.max(...options.rates), Math.ceil(deliveries / (viewers * seconds)));
  const started = performance.now();
  const windows = await sendWindow(generators, WARM_UP.fanOut, rate, seconds, 0);
  const sent = sum(windows, (w) => w.sent);
  const expected = sent * viewers;
  const collected = await drainAndCollect(generators, windows, viewers, drainSeconds);
  return { rate, seconds, sent, fraction: expected ? sum(collected, (c) => c.deliveries) / expected : 0, tookSeconds: (performance.now() - started) / 1000 };
}

function latency(h: HistogramData): LatencyMs {
  return { p50: quantileMs(h, 0.5), p90: quantileMs(h, 0.9), p99: quantileMs(h, 0.99), max: h.count ? h.maxUs / 1000 : undefined };
}

export class Session {
  private scenarios = FIRST_SCENARIO - 1;

  private constructor(
    readonly target: TargetName,
    private readonly group: ProcessGroup,
    private readonly options: BenchOptions,
    private readonly system: SystemUnderTest,
    private readonly generators: Generator[],
    readonly viewers: number,
    readonly connect: ConnectFigures,
    readonly warmUp: WarmUpFigures | undefined,
    readonly fanOutWarmUp: FanOutWarmUpFigures | undefined,
    private readonly memory: ProcessMemory[],
    readonly afterRestart: boolean,
  ) {}

  /**
   * `afterRestart`: a previous session of this target and viewer count left a backlog behind.
   * `reportsIdleMemory`: only a viewer count's first session does (it waits IDLE_SETTLE_MS for
   * that); a restarted or repeated one goes straight on to its scenario.
   */
  static async open(
    target: TargetName,
    viewers: number,
    group: ProcessGroup,
    options: BenchOptions,
    afterRestart: boolean,
    reportsIdleMemory: boolean,
  ): Promise<Session> {
    const system = await startSystem(target, group, options);
    const generators: Generator[] = [];
    try {
      await sleep(SETTLE_MS / 2);
      const idleKb = system.servers.map((s) => rssKb(s.pid) ?? 0);
      const idleHeap = await heapUsedKb(system);
      // The chatters get a process of their own: in a process that also reads thousands of viewer
      // sockets, an ack would wait behind the fan-out it caused and its latency would be the
      // generator's. Each viewer process holds at most viewersPerGenerator sockets (open files).
      const viewerProcesses = Math.ceil(viewers / options.viewersPerGenerator);
      for (const name of ['chatters', ...Array.from({ length: viewerProcesses }, (_, g) => `viewers-${g}`)]) {
        const child = group.start(`generator-${name}`, path.join(__dirname, 'generator/main.js'), { cpu: GENERATOR_CORE, ipc: true, profile: true });
        await nextMessage(child, 'starting', 15_000);
        generators.push(new Generator(child));
      }
      const perProcess = Math.ceil(viewers / viewerProcesses);
      const connectCommand = (firstViewer: number, viewerCount: number, chatters: number): GeneratorCommand => ({
        type: 'connect',
        target,
        ports: system.ports,
        firstViewer,
        viewers: viewerCount,
        chatters,
        concurrency: Math.ceil(options.concurrency / viewerProcesses),
        roomId: system.ours?.roomId,
        jwtSecret: system.ours?.jwtSecret,
        userPrefix: system.ours?.userPrefix,
      });
      const [chatterGenerator, ...viewerGenerators] = generators as [Generator, ...Generator[]];
      const chatters = await chatterGenerator.request(connectCommand(0, 0, options.chatters), 'connected', 120_000);
      if (chatters.chatters < options.chatters) throw new Error(`not every chatter could connect: ${chatters.errors.join('; ')}`);
      const warmUp = await warmUpSends(chatterGenerator, options);
      const cpuWindow = new CpuWindow(processGroups(system, generators));
      const results: ConnectResult[] = await Promise.all(
        viewerGenerators.map((g, i) =>
          g.request(connectCommand(i * perProcess, Math.min(perProcess, viewers - i * perProcess), 0), 'connected', 120_000),
        ),
      );
      const joined = sum(results, (r) => r.joined);
      const errors = results.flatMap((r) => r.errors);
      const seconds = Math.max(...results.map((r) => r.seconds));
      const connect: ConnectFigures = {
        seconds,
        joined,
        failed: sum(results, (r) => r.failed),
        perSecond: joined / seconds,
        errors,
        cpu: cpuWindow.end().processes,
      };
      if (reportsIdleMemory) await sleep(IDLE_SETTLE_MS);
      const connectedHeap = await heapUsedKb(system);
      // Viewer i and chatter j are on server (i mod servers), (j mod servers): see the generator.
      const memory = system.servers.map((s, i): ProcessMemory => {
        const connections = countModulo(viewers, system.servers.length, i) + countModulo(options.chatters, system.servers.length, i);
        const connectedKb = rssKb(s.pid) ?? 0;
        const heapDelta = (connectedHeap[i] ?? NaN) - (idleHeap[i] ?? NaN);
        return {
          name: s.name,
          connections,
          idleKb: idleKb[i]!,
          connectedKb,
          perIdleConnectionKb: (connectedKb - idleKb[i]!) / connections,
          ...(Number.isFinite(heapDelta) ? { heapPerIdleConnectionKb: heapDelta / connections } : {}),
        };
      });
      const fanOutWarmUp = await warmUpFanOut(generators, joined, options);
      return new Session(target, group, options, system, generators, viewers, connect, warmUp, fanOutWarmUp, memory, afterRestart);
    } catch (err) {
      await Promise.all([...generators.map((g) => g.child), ...system.servers, ...system.helpers].map((c) => group.stop(c)));
      throw err;
    }
  }

  async run(rate: number): Promise<ScenarioResult> {
    const { options, generators, system } = this;
    const scenario = ++this.scenarios;
    const groups = processGroups(system, generators);
    const infra = infraPids();
    const cpuWindow = new CpuWindow(groups);
    const serverTimings = system.ours ? await startServerTimings(system.ours.gatewayMetrics, system.ours.workerMetrics) : undefined;

    const windows = await sendWindow(generators, scenario, rate, options.seconds, Math.min(MAX_RAMP_S, options.seconds / 4));
    const { processes: cpu, cores } = cpuWindow.end();
    const loadKb = system.servers.map((s) => rssKb(s.pid));

    const sent = sum(windows, (w) => w.sent);
    const expected = sent * this.connect.joined;
    const collected = await drainAndCollect(generators, windows, this.connect.joined, options.drain);

    const delivered = sum(collected, (c) => c.deliveries);
    const acked = sum(collected, (c) => c.acked);
    const windowSeconds = Math.max(...windows.map((w) => w.windowSeconds));
    const viewerCloses: Record<string, number> = {};
    for (const c of collected) for (const [code, n] of Object.entries(c.closes)) viewerCloses[code] = (viewerCloses[code] ?? 0) + n;
    const fraction = expected ? delivered / expected : 0;
    const offeredPerSecond = (sent / windowSeconds) * this.connect.joined;
    const deliveriesPerSecond = sum(windows, (w) => w.deliveriesSteady) / Math.min(...windows.map((w) => w.steadySeconds));
    const generatorCpu = Math.max(...windows.map((w) => w.cpu));
    const loopDelayP99Ms = Math.max(...windows.map((w) => w.loopDelayP99Ms));
    const generator = {
      cpu: generatorCpu,
      loopDelayP99Ms,
      loopDelayMaxMs: Math.max(...windows.map((w) => w.loopDelayMaxMs)),
      saturated:
        loopDelayP99Ms >= GENERATOR_SATURATED_LAG_MS || (generatorCpu >= GENERATOR_BUSY_CPU && deliveriesPerSecond < KEPT_UP * offeredPerSecond),
      processes: generators.length,
    };
    const infraCpu: Record<string, number> = {};
    for (const name of infra.keys()) infraCpu[name] = cpu[name] ?? 0;
    const ourCpu = sum(Object.entries(cpu), ([name, c]) => (infra.has(name) ? 0 : c));
    const otherCpu = Math.max(0, sum(cores, (c) => c) - ourCpu - sum(Object.values(infraCpu), (c) => c));
    const pinnedCpu: Record<string, number> = {};
    for (const c of system.servers) pinnedCpu[c.name] = cpu[c.name] ?? 0;
    const helperCpu: Record<string, number> = {};
    for (const c of system.helpers) helperCpu[c.name] = cpu[c.name] ?? 0;

    return {
      target: this.target,
      viewers: this.viewers,
      rate,
      chatters: options.chatters,
      windowSeconds,
      sent,
      acked,
      ackErrors: Object.assign({}, ...collected.map((c) => c.ackErrors)) as Record<string, number>,
      expected,
      delivered,
      fraction,
      ...(this.target === 'ours'
        ? {
            messagesPerFrame: delivered / Math.max(1, sum(collected, (c) => c.pushFrames)),
            durability: options.durability[0]!,
            wordListTerms: options.wordList[0]!,
          }
        : {}),
      viewersShort: sum(collected, (c) => c.viewersShort),
      viewerCloses,
      offeredPerSecond,
      deliveriesPerSecond,
      latencyMs: latency(mergeHistograms(collected.map((c) => c.latency))),
      ackMs: latency(mergeHistograms(collected.map((c) => c.ack))),
      ...(serverTimings ? { serverTimings: await serverTimings() } : {}),
      drained: delivered >= expected && acked >= sent,
      afterRestart: this.afterRestart && scenario === FIRST_SCENARIO,
      connect: this.connect,
      ...(this.warmUp ? { warmUp: this.warmUp } : {}),
      ...(this.fanOutWarmUp ? { fanOutWarmUp: this.fanOutWarmUp } : {}),
      memory: this.memory.map((m, i) => {
        const load = loadKb[i];
        return load === undefined ? m : { ...m, loadKb: load, perLoadedConnectionKb: (load - m.idleKb) / m.connections };
      }),
      cpu: { ...pinnedCpu, ...helperCpu, generator: cpu.generator ?? 0 },
      infraCpu,
      cores,
      otherCpu,
      generator,
      limitedBy: limitedBy(generator, pinnedCpu, { ...helperCpu, ...infraCpu }, this.options.pin, fraction, viewerCloses, otherCpu),
    };
  }

  async close(): Promise<void> {
    const { group, system, generators } = this;
    await Promise.all(generators.map((g) => group.stop(g.child)));
    await Promise.all([...system.servers, ...system.helpers].map((c) => group.stop(c)));
    // The run leaves nothing in Redis or Postgres: its history streams, dedup hashes and
    // presence, and its stream's messages and viewing sessions (10k rows per 10k session) would
    // otherwise pile up in the machine's shared servers run after run.
    if (system.ours) {
      const log = createLogger('bench', 'silent');
      const redis = await connectRedis(serverEnv().REDIS_URL, log);
      await deleteMatching(redis, createKeys(system.ours.namespace).allPattern);
      redis.disconnect();
      // Its rows are all in its namespace's schema.
      await dropSchema(serverEnv().DATABASE_URL, system.ours.namespace);
    }
  }
}

/** V8 heap in use of each gateway, from its Prometheus metrics; empty for the baselines. */
async function heapUsedKb(system: SystemUnderTest): Promise<(number | undefined)[]> {
  if (!system.ours) return [];
  return Promise.all(
    system.ours.gatewayMetrics.map(async (url) => {
      const text = await (await fetch(url)).text();
      const match = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m.exec(text);
      return match ? Number(match[1]) / 1024 : undefined;
    }),
  );
}

/** Processes whose CPU is measured, by name: ours, the generators, and the shared servers. */
function processGroups(system: SystemUnderTest, generators: Generator[]): Map<string, number[]> {
  const groups = new Map<string, number[]>([...system.servers, ...system.helpers].map((c) => [c.name, [c.pid]]));
  groups.set('generator', generators.map((g) => g.child.pid));
  for (const [name, pids] of infraPids()) groups.set(name, pids);
  return groups;
}

function countModulo(total: number, buckets: number, bucket: number): number {
  return Math.floor(total / buckets) + (bucket < total % buckets ? 1 : 0);
}

/** Every resource that was saturated during the window, or why messages went missing. */
function limitedBy(
  generator: ScenarioResult['generator'],
  serverCpu: Record<string, number>,
  backEndCpu: Record<string, number>,
  pinned: boolean,
  fraction: number,
  closes: Record<string, number>,
  otherCpu: number,
): string {
  const limits: string[] = [];
  const servers = Object.entries(serverCpu).sort((a, b) => b[1] - a[1]);
  const total = sum(servers, ([, c]) => c);
  // Pinned, the server processes share core 0: together they are the limit.
  if (pinned && total >= SATURATED_CPU) limits.push(`server core 0 (${total.toFixed(2)})`);
  for (const [name, c] of [...(pinned ? [] : servers), ...Object.entries(backEndCpu)]) {
    if (c >= SATURATED_CPU) limits.push(`${name} CPU (${c.toFixed(2)})`);
  }
  if (generator.saturated) limits.push(`generator (${generator.cpu.toFixed(2)} cores, loop lag p99 ${generator.loopDelayP99Ms.toFixed(0)} ms)`);
  // Other agents' processes run on the same two cores; pinning does not keep them off ours.
  if (otherCpu >= NOISY_CPU) limits.push(`noise: ${otherCpu.toFixed(2)} cores used by processes outside the run`);
  const closed = Object.entries(closes).map(([code, n]) => `${n}× close ${code}`);
  if (closed.length) limits.push(`viewers closed: ${closed.join(', ')}`);
  else if (fraction < 0.999 && !limits.length) limits.push('messages not delivered in time');
  return limits.length ? limits.join(' + ') : 'none: kept up';
}
