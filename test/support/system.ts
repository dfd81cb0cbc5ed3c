// Boots a whole Lomi Chat system inside the test process — N gateways, M message workers and P
// presence workers, each with its own connections, on a namespace of its own so concurrent test files sharing one
// NATS, Redis and Postgres never see each other's traffic (in Postgres: a schema of its own).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { createLogger, GATEWAY_NODE_FLAGS } from '@lomi/service-runtime';
import { clearHotState, closeHotState, connectHotState, type HotState } from '@lomi/hot-state';
import { CompiledQuery, connectionConfig, createDb, dropSchema } from '@lomi/db';
import { loadGatewayConfig, startGateway, type Gateway } from '@lomi/gateway';
import { loadMessageWorkerConfig, startMessageWorker } from '@lomi/message-worker';
import { loadModerationWorkerConfig, startModerationWorker, type ModerationWorker } from '@lomi/moderation-worker';
import { loadPresenceWorkerConfig, startPresenceWorker, type PresenceWorker } from '@lomi/presence-worker';
import { decodeServerFrame, Encoding, type lomi, type Room } from '@lomi/protocol';
import { LomiClient } from '@lomi/client';
import { createLiveRoom, createPrivateRoom, DEFAULT_URLS, serviceApi, serviceMain, signUserToken, type ServiceApi, type TokenClaims } from '@lomi/testkit';
import WebSocket from 'ws';

export interface SystemOptions {
  gateways?: number;
  messageWorkers?: number;
  /** Presence workers (viewer counts, typing, join/leave messages); default 1. */
  presenceWorkers?: number;
  /** Moderation workers (pins); default 1. */
  moderationWorkers?: number;
  /** Overrides for every service's environment (server URLs, limits). */
  env?: Record<string, string>;
}

type MessageWorker = Awaited<ReturnType<typeof startMessageWorker>>;

type PushKind = Exclude<NonNullable<lomi.chat.v1.ServerFrame['body']>, 'message' | 'batch'>;

/**
 * Every push other than room messages (viewers, typing, room_closed, …) one client received, in
 * arrival order, for events the SDK does not surface as its own events.
 */
export class PushLog {
  readonly frames: lomi.chat.v1.ServerFrame[] = [];
  /** When each of `frames` arrived (performance.now()), read through arrivalsOf(). */
  private readonly arrivedAt: number[] = [];
  private waiters = new Set<() => void>();

  record(frame: lomi.chat.v1.ServerFrame): void {
    if (frame.requestId || !frame.body || frame.body === 'message' || frame.body === 'batch') return;
    this.frames.push(frame);
    this.arrivedAt.push(performance.now());
    for (const wake of this.waiters) wake();
  }

  /** The events of one kind received so far, e.g. of('viewers'). */
  of<K extends PushKind>(kind: K): NonNullable<lomi.chat.v1.ServerFrame[K]>[] {
    return this.frames.filter((f) => f.body === kind).map((f) => f[kind] as NonNullable<lomi.chat.v1.ServerFrame[K]>);
  }

  /** When each event of one kind arrived (performance.now()), in the order of of(kind). */
  arrivalsOf(kind: PushKind): number[] {
    return this.arrivedAt.filter((_, i) => this.frames[i]!.body === kind);
  }

  /** How many pushes have arrived so far: pass it as `after` to wait only for later ones. */
  mark(): number {
    return this.frames.length;
  }

  /** Resolves with the first event of `kind` (among those after `after`, default all) that `matches`. */
  waitFor<K extends PushKind>(
    kind: K,
    matches: (event: NonNullable<lomi.chat.v1.ServerFrame[K]>) => boolean,
    { timeoutMs = 10_000, after = 0 }: { timeoutMs?: number; after?: number } = {},
  ): Promise<NonNullable<lomi.chat.v1.ServerFrame[K]>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.frames
          .slice(after)
          .filter((f) => f.body === kind)
          .map((f) => f[kind] as NonNullable<lomi.chat.v1.ServerFrame[K]>)
          .find(matches);
        if (!found) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no matching ${kind} push within ${timeoutMs} ms; got ${JSON.stringify(this.of(kind))}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

/** A gateway running in a child process, so a test can kill it with SIGKILL like a crashed pod. */
export interface SpawnedGateway {
  pid: number;
  port: number;
  /** SIGKILL: no socket is closed cleanly and no presence report is sent. Resolves once it exited. */
  kill(): Promise<void>;
}

export interface TestSystem {
  namespace: string;
  env: Record<string, string>;
  /** pg settings for this system's Postgres schema, for tests that read its tables: `new Pool(system.pg)`. */
  pg: { connectionString: string; options: string };
  /** Runs one SQL statement (`$1` parameters) on this system's schema, Postgres or PGlite alike; int8 comes back as numbers. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** The system's hot state (Redis or memory) as its services see it, for tests that read or drop it through the stores' seams. */
  hotState(): Promise<HotState>;
  gateways: Gateway[];
  workers: MessageWorker[];
  presenceWorkers: PresenceWorker[];
  moderationWorkers: ModerationWorker[];
  jwtSecret: string;
  serviceToken: string;
  /** A user id unique to this system, so runs against a shared Postgres never collide. */
  user(name: string): string;
  /** A signed user JWT. */
  token(userId: string, claims?: TokenClaims): Promise<string>;
  /** A connected SDK client for `userId` on gateway `gateway` (default 0) or a spawned one. */
  /** A connected SDK client; with `join`, already in that room (sends need a joined room). */
  connect(userId: string, options?: { gateway?: number | SpawnedGateway; encoding?: Encoding; join?: Room }): Promise<LomiClient>;
  /** The pushes a client from `connect` received. */
  pushes(client: LomiClient): PushLog;
  wsUrl(gateway?: number): string;
  httpUrl(gateway?: number): string;
  /** Where gateway `gateway` (default 0) serves /metrics, /healthz and /readyz. */
  metricsUrl(gateway?: number): string;
  /** Calls the service API with the service token. */
  api: ServiceApi;
  createLiveRoom(broadcasterId: string): Promise<Room>;
  createPrivateRoom(userA: string, userB: string): Promise<Room>;
  startMessageWorker(): Promise<MessageWorker>;
  startPresenceWorker(): Promise<PresenceWorker>;
  startModerationWorker(): Promise<ModerationWorker>;
  /** Starts a gateway with this system's environment in a child process of its own. */
  spawnGateway(): Promise<SpawnedGateway>;
  stop(): Promise<void>;
}

export async function startSystem(options: SystemOptions = {}): Promise<TestSystem> {
  const namespace = `t${randomBytes(5).toString('hex')}`;
  const jwtSecret = randomBytes(32).toString('hex');
  const serviceToken = randomBytes(24).toString('hex');
  const env: Record<string, string> = {
    ...DEFAULT_URLS,
    LOMI_NAMESPACE: namespace,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    // A system configured for RS256 (JWT_PUBLIC_KEY) must not also get the HS256 secret.
    ...(options.env?.JWT_PUBLIC_KEY ? {} : { JWT_SECRET: jwtSecret }),
    SERVICE_TOKEN: serviceToken,
    HOST: '127.0.0.1',
    PORT: '0',
    // Every gateway's and worker's /metrics, /healthz and /readyz on a free port of its own.
    METRICS_PORT: '0',
    // No join/leave system messages unless a test asks for them: they take seqs in live rooms,
    // and most tests count the seqs of their own messages.
    JOIN_LEAVE_MESSAGES: 'false',
    // A stopped gateway closes its sockets almost at once: only the drain tests wait longer.
    DRAIN_DELAY_MS: '0',
    DRAIN_WINDOW_MS: '200',
    // No live-room rate limit unless a test asks for one: most tests send as fast as they can.
    LIVE_RATE_PER_S: '1000000',
    LIVE_RATE_BURST: '1000000',
    ...options.env,
  };
  const gateways: Gateway[] = [];
  const workers: MessageWorker[] = [];
  let records: ReturnType<typeof createDb> | undefined;
  const presenceWorkers: PresenceWorker[] = [];
  const moderationWorkers: ModerationWorker[] = [];
  const clients = new Set<LomiClient>();
  const pushLogs = new WeakMap<LomiClient, PushLog>();
  const children = new Set<ChildProcess>();

  let hot: Promise<HotState> | undefined;
  const system: TestSystem = {
    namespace,
    env,
    pg: connectionConfig(env.DATABASE_URL!, namespace),
    async query<R>(text: string, params: unknown[] = []) {
      records ??= createDb(env.DATABASE_URL!, namespace);
      return (await records.executeQuery<R>(CompiledQuery.raw(text, params))).rows;
    },
    hotState() {
      hot ??= connectHotState({ REDIS_URL: env.REDIS_URL!, REDIS_CLUSTER_NODES: env.REDIS_CLUSTER_NODES }, namespace, createLogger('testkit', 'silent'));
      return hot;
    },
    gateways,
    workers,
    presenceWorkers,
    moderationWorkers,
    jwtSecret,
    serviceToken,
    user: (name) => `${name}-${namespace}`,
    token: (userId, claims) => signUserToken(jwtSecret, userId, claims),
    async connect(userId, opts = {}) {
      const encoding = opts.encoding ?? Encoding.PROTO;
      const pushes = new PushLog();
      // The SDK sets onmessage; a listener of our own sees the same frames.
      class TappedWebSocket extends WebSocket {
        constructor(...args: ConstructorParameters<typeof WebSocket>) {
          super(...args);
          this.on('message', (data: Buffer, isBinary: boolean) => pushes.record(decodeServerFrame(isBinary ? new Uint8Array(data) : data.toString('utf8'), encoding)));
        }
      }
      const gateway = opts.gateway ?? 0;
      const client = await LomiClient.connect({
        url: typeof gateway === 'number' ? system.wsUrl(gateway) : `ws://127.0.0.1:${gateway.port}`,
        token: await system.token(userId),
        encoding,
        WebSocket: TappedWebSocket as never,
      });
      clients.add(client);
      pushLogs.set(client, pushes);
      if (opts.join) await client.join(opts.join);
      return client;
    },
    pushes(client) {
      const log = pushLogs.get(client);
      if (!log) throw new Error('not a client of this system');
      return log;
    },
    wsUrl: (i = 0) => `ws://127.0.0.1:${gateways[i]!.port}`,
    httpUrl: (i = 0) => `http://127.0.0.1:${gateways[i]!.port}`,
    metricsUrl: (i = 0) => `http://127.0.0.1:${gateways[i]!.metricsPort}`,
    api: serviceApi(() => system.httpUrl(0), serviceToken),
    createLiveRoom: (broadcasterId) => createLiveRoom(system.api, broadcasterId),
    createPrivateRoom: (userA, userB) => createPrivateRoom(system.api, userA, userB),
    async startMessageWorker() {
      const worker = await startMessageWorker(loadMessageWorkerConfig(env), createLogger('message-worker', env.LOG_LEVEL!));
      workers.push(worker);
      return worker;
    },
    async startPresenceWorker() {
      const worker = await startPresenceWorker(loadPresenceWorkerConfig(env), createLogger('presence-worker', env.LOG_LEVEL!));
      presenceWorkers.push(worker);
      return worker;
    },
    async startModerationWorker() {
      const worker = await startModerationWorker(loadModerationWorkerConfig(env), createLogger('moderation-worker', env.LOG_LEVEL!));
      moderationWorkers.push(worker);
      return worker;
    },
    async spawnGateway() {
      const child = spawn(process.execPath, [...GATEWAY_NODE_FLAGS, serviceMain('gateway')], {
        // info: the "gateway listening" line tells the port it picked.
        env: { ...process.env, ...env, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.add(child);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      void exited.then(() => children.delete(child));
      const port = await new Promise<number>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout });
        lines.on('line', (line) => {
          try {
            const port = (JSON.parse(line) as { port?: number }).port;
            if (port) resolve(port);
          } catch {
            // not a log line
          }
        });
        void exited.then(() => reject(new Error('the spawned gateway exited before listening')));
      });
      return {
        pid: child.pid!,
        port,
        async kill() {
          child.kill('SIGKILL');
          await exited;
        },
      };
    },
    async stop() {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all([...clients].map((c) => c.close().catch(() => undefined)));
      await Promise.all(gateways.map((g) => g.stop().catch(() => undefined)));
      if (hot) await closeHotState(await hot).catch(() => undefined);
      await Promise.all([...workers, ...presenceWorkers, ...moderationWorkers].map((w) => w.stop().catch(() => undefined)));
      // The system's hot state goes with it, so test runs do not pile up in a shared Redis (a
      // test that stopped its own Redis already took its keys along).
      await clearHotState({ REDIS_URL: env.REDIS_URL!, REDIS_CLUSTER_NODES: env.REDIS_CLUSTER_NODES }, namespace, createLogger('testkit', 'silent')).catch(
        () => undefined,
      );
      // Its Postgres schema too, so the shared database does not fill up with them.
      await records?.destroy();
      await dropSchema(env.DATABASE_URL!, namespace).catch(() => undefined);
    },
  };

  try {
    for (let i = 0; i < (options.messageWorkers ?? 1); i++) await system.startMessageWorker();
    for (let i = 0; i < (options.presenceWorkers ?? 1); i++) await system.startPresenceWorker();
    for (let i = 0; i < (options.moderationWorkers ?? 1); i++) await system.startModerationWorker();
    for (let i = 0; i < (options.gateways ?? 1); i++) {
      gateways.push(await startGateway(loadGatewayConfig(env), createLogger('gateway', env.LOG_LEVEL!)));
    }
  } catch (err) {
    await system.stop();
    throw err;
  }
  return system;
}
