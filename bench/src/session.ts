// One system under test with its viewers connected: starts the servers (pinned to core 0), the
// generator processes (core 1), connects the chatters and warms the servers up with their sends,
// connects and joins the viewers, measures memory, and runs scenarios on it.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { mergeHistograms, quantileMs, type HistogramData } from './histogram';
import type { CollectResult, ConnectResult, GeneratorCommand, GeneratorReply, Progress, TargetName, WindowResult } from './ipc';
import { connectRedis, createKeys, deleteMatching } from '@lomi/hot-state';
import { createLogger, GATEWAY_NODE_FLAGS, SERVICE_NODE_FLAGS } from '@lomi/service-runtime';
import { dropSchema } from '@lomi/db';
import { startNatsCluster, startNatsServer, startRedisCluster, startRedisServer, type NatsServer } from '@lomi/testkit';
import Redis from 'ioredis';
import { CpuWindow, infraPids, rssKb } from './proc-stats';
import { startServerTimings } from './server-timings';
import { wordListFile } from './payload';
import { nextMessage, freePort, sleep, waitForHttp, type Child, type ProcessGroup } from './processes';
import { SLOT_CHATTER_RATE, type BenchOptions } from './options';
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

export interface SystemUnderTest {
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
  ours?: {
    namespace: string;
    roomId: string;
    jwtSecret: string;
    serviceToken: string;
    userPrefix: string;
    gatewayMetrics: string[];
    workerMetrics: string[];
    /** Engines started for this system (BenchOptions.engines): stopped with it, their data with them. */
    engines?: OwnEngines;
  };
}

export const serverEnv = () => ({
  NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  LOG_LEVEL: 'warn',
});

interface OwnEngines {
  /** The full NATS server list starting at node `first`: processes given different firsts connect to different nodes. */
  natsUrl(first: number): string;
  /** How the services reach Redis. */
  redisEnv: Record<string, string>;
  /** Their processes, for CPU: NATS and Redis. */
  pids: { nats: number[]; redis: number[] };
  stop(): Promise<void>;
}

/** Makes the Redis on `replicaPort` a replica of the one on `masterPort`, once it is in sync. */
async function follow(replicaPort: number, masterPort: number): Promise<void> {
  const replica = new Redis(replicaPort, '127.0.0.1');
  try {
    await replica.replicaof('127.0.0.1', masterPort);
    const deadline = Date.now() + 15_000;
    while (!(await replica.info('replication')).includes('master_link_status:up')) {
      if (Date.now() > deadline) throw new Error(`the replica on ${replicaPort} did not follow ${masterPort} within 15 s`);
      await sleep(100);
    }
  } finally {
    replica.disconnect();
  }
}

/**
 * One NATS server and one Redis (with a replica when asked), or a 3-node NATS cluster and a 3-master Redis Cluster with a
 * replica each, on loopback like the shared servers.
 */
async function startOwnEngines(group: ProcessGroup, kind: 'single' | 'cluster', withReplica = false): Promise<OwnEngines> {
  const single = async () => {
    const [nats, redis, replica] = await Promise.all([startNatsServer(), startRedisServer(), withReplica ? startRedisServer() : undefined]);
    if (replica) await follow(replica.port, redis.port);
    const servers = replica ? [redis, replica] : [redis];
    return {
      nats: [nats],
      redisEnv: { REDIS_URL: redis.url },
      redisPids: () => servers.map((s) => s.pid),
      stopRedis: async () => void (await Promise.all(servers.map((s) => s.dispose()))),
    };
  };
  const cluster = async () => {
    const [nats, redis] = await Promise.all([startNatsCluster(3), startRedisCluster({ masters: 3, replicas: 1 })]);
    return { nats, redisEnv: { REDIS_CLUSTER_NODES: redis.seeds }, redisPids: () => redis.nodes.map((n) => n.pid), stopRedis: () => redis.stop() };
  };
  const { nats, redisEnv, redisPids, stopRedis } = kind === 'single' ? await single() : await cluster();
  const stop = async () => void (await Promise.all([stopRedis(), ...nats.map((n: NatsServer) => n.dispose())]));
  group.adopt(stop);
  return {
    natsUrl: (first) => nats.map((_, i) => nats[(first + i) % nats.length]!.url).join(','),
    redisEnv,
    pids: { nats: nats.map((n) => n.pid), redis: redisPids() },
    stop,
  };
}

async function startOurs(group: ProcessGroup, options: BenchOptions): Promise<SystemUnderTest> {
  // A namespace of our own: no subject or key of anyone else's data is touched.
  const namespace = `bench${randomBytes(4).toString('hex')}`;
  const jwtSecret = randomBytes(32).toString('hex');
  const serviceToken = randomBytes(24).toString('hex');
  // ACK_DURABILITY=replica needs a replica: runs compared with it get a Redis of their own with one.
  const withReplica = options.durability.includes('replica');
  const engineKind = options.engines === 'shared' ? (withReplica ? 'single' : undefined) : options.engines;
  const engines = engineKind ? await startOwnEngines(group, engineKind, withReplica) : undefined;
  const env = { ...serverEnv(), LOMI_NAMESPACE: namespace, ACK_DURABILITY: options.durability[0]!, ...engines?.redisEnv };
  // Gateways on the first nodes, workers from the last one back: no two kinds share a first node.
  const natsUrl = (first: number) => (engines ? { NATS_URL: engines.natsUrl(first) } : {});
  const slotLimits: Record<string, string> =
    options.scenario === 'slot' ? { LIVE_RATE_PER_S: String(SLOT_CHATTER_RATE), LIVE_RATE_BURST: String(SLOT_CHATTER_RATE) } : {};
  const workerEnv = {
    ...env,
    ...slotLimits,
    ...(options.wordList[0] ? { WORD_FILTER_FILE: group.writeFile(`word-list-${options.wordList[0]}.txt`, wordListFile(options.wordList[0])) } : {}),
  };
  const helpers: Child[] = [];
  const workerMetrics: string[] = [];
  for (let i = 0; i < options.workers; i++) {
    const metricsPort = await freePort();
    const worker = group.start(`message-worker-${i}`, path.join(ROOT, 'services/message-worker/dist/main.js'), {
      env: { ...workerEnv, ...natsUrl(2 + i), METRICS_PORT: String(metricsPort) },
      profile: true,
      // As deployed (k8s/message-worker.yaml).
      nodeFlags: SERVICE_NODE_FLAGS,
    });
    helpers.push(worker);
    workerMetrics.push(`http://127.0.0.1:${metricsPort}/metrics`);
    await waitForHttp(worker, `http://127.0.0.1:${metricsPort}/healthz`);
  }
  helpers.push(
    group.start('presence-worker', path.join(ROOT, 'services/presence-worker/dist/main.js'), {
      env: { ...env, ...natsUrl(2 + options.workers) },
      profile: true,
      nodeFlags: SERVICE_NODE_FLAGS,
    }),
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
        ...natsUrl(i),
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
  const roomId = await createLiveRoom(ports[0]!, serviceToken, `${namespace}-broadcaster`);
  return {
    ports,
    servers,
    helpers,
    ours: { namespace, roomId, jwtSecret, serviceToken, userPrefix: `${namespace}-`, gatewayMetrics, workerMetrics, ...(engines ? { engines } : {}) },
  };
}

/** A POST to the service API of the gateway on `port`; returns the created room's id. */
async function createRoom(port: number, serviceToken: string, route: string, body: Record<string, string>): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const reply = (await res.json()) as { id?: string };
  if (res.status !== 201 || !reply.id) throw new Error(`POST ${route} failed: ${res.status} ${JSON.stringify(reply)}`);
  return reply.id;
}

/** A live room of `broadcaster`'s; returns its id. */
export const createLiveRoom = (port: number, serviceToken: string, broadcaster: string) =>
  createRoom(port, serviceToken, '/api/v1/live', { broadcaster_id: broadcaster });

/** The private conversation of two users; returns its id. */
export const createConversation = (port: number, serviceToken: string, userA: string, userB: string) =>
  createRoom(port, serviceToken, '/api/v1/conversations', { user_a: userA, user_b: userB });

async function startBaseline(group: ProcessGroup, name: string, script: string, env: Record<string, string>): Promise<{ child: Child; port: number }> {
  const child = group.start(name, path.join(__dirname, 'baselines', script), { env, cpu: SERVER_CORE, ipc: true, profile: true });
  const { port } = await nextMessage<{ port: number }>(child, 'starting', 15_000);
  return { child, port };
}

/**
 * Ours as `pnpm start` runs it with no server URLs: every service in one process on the
 * in-process bus, the memory hot state and PGlite in a folder of the run's logs.
 */
async function startEmbedded(group: ProcessGroup, options: BenchOptions): Promise<SystemUnderTest> {
  const namespace = `bench${randomBytes(4).toString('hex')}`;
  const jwtSecret = randomBytes(32).toString('hex');
  const serviceToken = randomBytes(24).toString('hex');
  const [port, metricsPort] = [await freePort(), await freePort()];
  const unlimited = String(1_000_000);
  const env: Record<string, string> = {
    LOMI_NAMESPACE: namespace,
    LOMI_DATA_DIR: path.join(group.logDir, `${namespace}-data`),
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    JWT_SECRET: jwtSecret,
    SERVICE_TOKEN: serviceToken,
    // No development token routes (the web client's files are served, but nobody asks for them).
    DEV_TOKENS: 'false',
    ACK_DURABILITY: options.durability[0]!,
    MAX_CONNECTIONS_PER_IP: unlimited,
    MAX_HANDSHAKES_PER_S_PER_IP: unlimited,
    ...(options.wordList[0] ? { WORD_FILTER_FILE: group.writeFile(`word-list-${options.wordList[0]}.txt`, wordListFile(options.wordList[0])) } : {}),
  };
  const child = group.start('all-in-one', path.join(ROOT, 'services/all-in-one/dist/main.js'), {
    env,
    unset: ['NATS_URL', 'REDIS_URL', 'DATABASE_URL'],
    cpu: SERVER_CORE,
    profile: true,
    nodeFlags: GATEWAY_NODE_FLAGS,
  });
  await waitForHttp(child, `http://127.0.0.1:${port}/readyz`);
  const roomId = await createLiveRoom(port, serviceToken, `${namespace}-broadcaster`);
  // The gateway's metrics are on its default port in the all-in-one process, the message worker's on METRICS_PORT.
  return {
    ports: [port],
    servers: [child],
    helpers: [],
    ours: {
      namespace,
      roomId,
      jwtSecret,
      serviceToken,
      userPrefix: `${namespace}-`,
      gatewayMetrics: ['http://127.0.0.1:9463/metrics'],
      workerMetrics: [`http://127.0.0.1:${metricsPort}/metrics`],
    },
  };
}

export async function startSystem(target: TargetName, group: ProcessGroup, options: BenchOptions): Promise<SystemUnderTest> {
  if (target === 'ours') return options.system === 'embedded' ? startEmbedded(group, options) : startOurs(group, options);
  if (target === 'uws') {
    // One process holds one room's sockets (its topics do not cross processes); the rooms
    // scenario has more sockets than one process may open, and shards its rooms over as many
    // processes as we have gateways.
    const nodes = [];
    const count = options.scenario === 'rooms' ? options.gateways : 1;
    for (let i = 0; i < count; i++) nodes.push(await startBaseline(group, count === 1 ? 'uws' : `uws-${i}`, 'uws-server.js', {}));
    return { ports: nodes.map((n) => n.port), servers: nodes.map((n) => n.child), helpers: [] };
  }
  // As many Socket.IO nodes as we have gateways, sharing the room through Redis.
  const env = { ...serverEnv(), SOCKETIO_KEY: `bench-${randomBytes(4).toString('hex')}` };
  const nodes = [];
  for (let i = 0; i < options.gateways; i++) nodes.push(await startBaseline(group, `socketio-${i}`, 'socketio-server.js', env));
  return { ports: nodes.map((n) => n.port), servers: nodes.map((n) => n.child), helpers: [] };
}

export class Generator {
  constructor(readonly child: Child) {}

  async request<T extends GeneratorReply['type']>(command: GeneratorCommand, expect: T, timeoutMs: number): Promise<Extract<GeneratorReply, { type: T }>> {
    this.child.proc.send(command);
    const reply = await nextMessage<GeneratorReply>(this.child, `answering ${command.type}`, timeoutMs);
    if (reply.type === 'failed') throw new Error(`${this.child.name} failed at ${command.type}: ${reply.error}`);
    if (reply.type !== expect) throw new Error(`${this.child.name} answered ${reply.type} to ${command.type}`);
    return reply as Extract<GeneratorReply, { type: T }>;
  }
}

export const sum = <T>(items: T[], f: (t: T) => number) => items.reduce((s, t) => s + f(t), 0);

/** Polls the generators until `done` says everything arrived, or for at most `seconds`. */
export async function drain(generators: Generator[], first: Progress[], done: (progress: Progress[]) => boolean, seconds: number): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  let progress = first;
  while (!done(progress) && performance.now() <= deadline) {
    await sleep(PROGRESS_POLL_MS);
    progress = await Promise.all(generators.map((g) => g.request({ type: 'progress' }, 'progress', 30_000)));
  }
}

/** The chatters (the first generator) send at `rate` for `seconds`; every generator records `scenario`. */
function sendWindow(generators: Generator[], scenario: number, rate: number, seconds: number, rampSeconds: number): Promise<WindowResult[]> {
  return Promise.all(generators.map((g, i) => g.request({ type: 'start', scenario, rate: i === 0 ? rate : 0, seconds, rampSeconds }, 'window', (seconds + 60) * 1000)));
}

/** Waits up to `seconds` for the window's sends to be acked and delivered to every viewer, then collects the figures. */
async function drainAndCollect(generators: Generator[], windows: WindowResult[], viewers: number, seconds: number): Promise<CollectResult[]> {
  const sent = sum(windows, (w) => w.sent);
  await drain(generators, windows, (p) => sum(p, (g) => g.deliveries) >= sent * viewers && sum(p, (g) => g.acked) >= sent, seconds);
  return Promise.all(generators.map((g) => g.request({ type: 'collect', expectedPerViewer: sent }, 'collected', 30_000)));
}

/**
 * The chatters send alone at the highest rate for --warmup seconds, before any viewer connects,
 * and the figures are kept apart from every scenario's: a deployed service has long been warm
 * when a stream starts (docs/decisions/0018). Every system under test gets the same warm-up.
 */
async function warmUpSends(chatters: Generator, options: BenchOptions): Promise<WarmUpFigures | undefined> {
  if (options.warmup <= 0) return undefined;
  const rate = warmUpRate(options);
  const start: GeneratorCommand = { type: 'start', scenario: WARM_UP.sends, rate, seconds: options.warmup, rampSeconds: 0 };
  const window = await chatters.request(start, 'window', (options.warmup + 60) * 1000);
  await drain([chatters], [window], ([p]) => p!.acked >= p!.sent, options.drain);
  const { sent, acked, ack } = await chatters.request({ type: 'collect', expectedPerViewer: 0 }, 'collected', 30_000);
  return { rate, seconds: options.warmup, sent, acked, ackMs: latency(ack) };
}

/** The highest rate; the slot scenario's steps are meant to go past what the system sustains, so it warms up at its first. */
const warmUpRate = (options: BenchOptions) => (options.scenario === 'slot' ? options.rates[0]! : Math.max(...options.rates));

/**
 * Then, with the viewers joined, the chatters send for FAN_OUT_WARM_UP.seconds more, so that the code
 * that delivers is warm too: each server's fan-out and the generators' reading run for the first
 * time here, which the first window would otherwise measure (docs/decisions/0018). Every system
 * gets the same, unmeasured; its deliveries are awaited, so no backlog of it reaches the first scenario.
 */
async function warmUpFanOut(generators: Generator[], viewers: number, options: BenchOptions): Promise<FanOutWarmUpFigures | undefined> {
  if (options.warmup <= 0 || viewers === 0) return undefined;
  const { deliveries, seconds, drainSeconds } = FAN_OUT_WARM_UP;
  const rate = Math.min(warmUpRate(options), Math.ceil(deliveries / (viewers * seconds)));
  const started = performance.now();
  const windows = await sendWindow(generators, WARM_UP.fanOut, rate, seconds, 0);
  const sent = sum(windows, (w) => w.sent);
  const expected = sent * viewers;
  const collected = await drainAndCollect(generators, windows, viewers, drainSeconds);
  return { rate, seconds, sent, fraction: expected ? sum(collected, (c) => c.deliveries) / expected : 0, tookSeconds: (performance.now() - started) / 1000 };
}

export function latency(h: HistogramData): LatencyMs {
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
        viewerGenerators.map((g, i) => g.request(connectCommand(i * perProcess, Math.min(perProcess, viewers - i * perProcess), 0), 'connected', 120_000)),
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
      await Promise.all(generators.map((g) => group.stop(g.child)));
      await stopSystem(group, system);
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
      saturated: loopDelayP99Ms >= GENERATOR_SATURATED_LAG_MS || (generatorCpu >= GENERATOR_BUSY_CPU && deliveriesPerSecond < KEPT_UP * offeredPerSecond),
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
            messagesPerFrame:
              delivered /
              Math.max(
                1,
                sum(collected, (c) => c.pushFrames),
              ),
            durability: options.durability[0]!,
            wordListTerms: options.wordList[0]!,
            system: options.system,
            engines: options.engines,
            ...(system.ours?.engines ? { engineCpu: { nats: cpu['engine-nats'] ?? 0, redis: cpu['engine-redis'] ?? 0 } } : {}),
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
    await Promise.all(this.generators.map((g) => this.group.stop(g.child)));
    await stopSystem(this.group, this.system);
  }
}

/** Stops a system's processes and leaves nothing of its run behind. */
export async function stopSystem(group: ProcessGroup, system: SystemUnderTest): Promise<void> {
  await Promise.all([...system.servers, ...system.helpers].map((c) => group.stop(c)));
  if (!system.ours) return;
  // Engines of its own go with their data.
  if (system.ours.engines) await group.release(system.ours.engines.stop);
  else {
    // The run leaves nothing in Redis or Postgres: its history streams, dedup hashes and
    // presence, and its stream's messages and viewing sessions (10k rows per 10k session) would
    // otherwise pile up in the machine's shared servers run after run.
    const log = createLogger('bench', 'silent');
    const redis = await connectRedis(serverEnv().REDIS_URL, log);
    await deleteMatching(redis, createKeys(system.ours.namespace).allPattern);
    redis.disconnect();
  }
  // Its rows are all in its namespace's schema.
  await dropSchema(serverEnv().DATABASE_URL, system.ours.namespace);
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
export function processGroups(system: SystemUnderTest, generators: Generator[]): Map<string, number[]> {
  const groups = new Map<string, number[]>([...system.servers, ...system.helpers].map((c) => [c.name, [c.pid]]));
  groups.set(
    'generator',
    generators.map((g) => g.child.pid),
  );
  for (const [name, pids] of infraPids()) groups.set(name, pids);
  const engines = system.ours?.engines;
  if (engines) for (const [name, pids] of Object.entries(engines.pids)) groups.set(`engine-${name}`, pids);
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
