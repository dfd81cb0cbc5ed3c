// The deployed topology for fault experiments: gateways, message workers, a presence worker and
// a moderation worker, each a child process (service-process.ts), on private NATS, Redis and
// Postgres servers (owned-server.ts) that a test file starts once and faults by PID. Every topology
// gets a namespace of its own, so experiments sharing those servers do not see each other.
import { randomBytes } from 'node:crypto';
import { createDb } from '@lomi/db';
import type { Room } from '@lomi/protocol';
import { createLiveRoom, createPrivateRoom, serviceApi, signUserToken, type ServiceApi, type TokenClaims } from './api-client';
import { startNatsCluster, startNatsServer, type NatsServer } from './nats-server';
import { startPostgres, type PostgresServer } from './postgres-server';
import { startRedisServer, type RedisServer } from './redis-server';
import { spawnService, type ServiceKind, type ServiceProcess } from './service-process';

export interface ChaosServers {
  nats: NatsServer;
  /** Every NATS server: one, or the nodes of a cluster (services get them all as NATS_URL). */
  natsNodes: NatsServer[];
  redis: RedisServer;
  postgres: PostgresServer;
  /** The private Postgres, for reading what the persister stored. */
  db: ReturnType<typeof createDb>;
  dispose(): Promise<void>;
}

/** Private NATS (JetStream on; or a cluster of `natsCluster` nodes), Redis (with an append-only file if asked) and Postgres. */
export async function startChaosServers(options: { redisAof?: boolean; natsCluster?: number } = {}): Promise<ChaosServers> {
  const [natsNodes, redis, postgres] = await Promise.all([
    options.natsCluster ? startNatsCluster(options.natsCluster, { monitor: true }) : startNatsServer({ jetstream: true }).then((n) => [n]),
    startRedisServer({ appendOnly: options.redisAof }),
    startPostgres(),
  ]);
  const nats = natsNodes[0]!;
  // Without a logger the pool still survives the connections a Postgres outage drops.
  const db = createDb(postgres.url, 'public');
  return {
    nats,
    natsNodes,
    redis,
    postgres,
    db,
    async dispose() {
      await db.destroy().catch(() => undefined);
      await Promise.all([...natsNodes.map((n) => n.dispose()), redis.dispose(), postgres.dispose()]);
    },
  };
}

export interface TopologyOptions {
  gateways?: number;
  messageWorkers?: number;
  /** For every service (unknown variables are ignored by the others' schemas). */
  env?: Record<string, string>;
  /** For the message workers only, e.g. ACK_DURABILITY. */
  messageWorkerEnv?: Record<string, string>;
}

/**
 * Limits and timings that make a test topology behave as deployed but fit a test: no rate
 * limit and no join/leave messages unless asked (they take seqs), generous connection limits
 * (thousands of test sockets come from one address), a short gateway drain, and every metrics
 * listener on a free port.
 */
const TEST_DEFAULTS: Record<string, string> = {
  HOST: '127.0.0.1',
  PORT: '0',
  METRICS_PORT: '0',
  JOIN_LEAVE_MESSAGES: 'false',
  LIVE_RATE_PER_S: '1000000',
  LIVE_RATE_BURST: '1000000',
  MAX_CONNECTIONS_PER_IP: '100000',
  MAX_HANDSHAKES_PER_S_PER_IP: '100000',
  MAX_CONNECTIONS_PER_USER: '1000',
  MAX_ROOMS_PER_USER: '1000',
  MAX_TOKEN_LIFETIME_S: '86400',
  DRAIN_DELAY_MS: '100',
  DRAIN_WINDOW_MS: '1500',
};

export class Topology {
  readonly namespace = `c${randomBytes(5).toString('hex')}`;
  readonly jwtSecret = randomBytes(32).toString('hex');
  readonly serviceToken = randomBytes(24).toString('hex');
  readonly env: Record<string, string>;
  readonly gateways: ServiceProcess[] = [];
  readonly messageWorkers: ServiceProcess[] = [];
  readonly others: ServiceProcess[] = [];
  /** The service API, through the first gateway that is running. */
  readonly api: ServiceApi;

  constructor(
    readonly servers: ChaosServers,
    env: Record<string, string>,
  ) {
    this.env = {
      NATS_URL: servers.natsNodes.map((n) => n.url).join(','),
      REDIS_URL: servers.redis.url,
      DATABASE_URL: servers.postgres.url,
      LOMI_NAMESPACE: this.namespace,
      JWT_SECRET: this.jwtSecret,
      SERVICE_TOKEN: this.serviceToken,
      ...TEST_DEFAULTS,
      ...env,
    };
    this.api = serviceApi(() => {
      const gateway = this.gateways.find((g) => g.running);
      if (!gateway) throw new Error('no gateway is running');
      return `http://127.0.0.1:${gateway.port}`;
    }, this.serviceToken);
  }

  get services(): ServiceProcess[] {
    return [...this.gateways, ...this.messageWorkers, ...this.others];
  }

  /** A user id unique to this topology. */
  user(name: string): string {
    return `${name}-${this.namespace}`;
  }

  token(userId: string, claims?: TokenClaims): Promise<string> {
    return signUserToken(this.jwtSecret, userId, claims);
  }

  /** Every gateway's URL, starting with gateway `first`: a client connects there and fails over to the next. */
  urls(first = 0): string[] {
    return this.gateways.map((_, i) => this.gateways[(first + i) % this.gateways.length]!.url);
  }

  createLiveRoom(broadcasterId: string): Promise<Room> {
    return createLiveRoom(this.api, broadcasterId);
  }

  createPrivateRoom(userA: string, userB: string): Promise<Room> {
    return createPrivateRoom(this.api, userA, userB);
  }

  /** Last output of every service, for a failure message. */
  output(lines = 15): string {
    return this.services.map((s) => `--- ${s.name} (pid ${s.pid}, ${s.running ? 'running' : 'not running'})\n${s.output(lines)}`).join('\n');
  }

  /** SIGKILLs every service still running. */
  async stop(): Promise<void> {
    await Promise.all(this.services.map((s) => s.kill()));
  }
}

/** Starts the topology, every service at once (workers migrate the database safely side by side). */
export async function startTopology(servers: ChaosServers, options: TopologyOptions = {}): Promise<Topology> {
  const topology = new Topology(servers, options.env ?? {});
  const spawn = (kind: ServiceKind, name: string, extra: Record<string, string> = {}) => spawnService(kind, name, { ...topology.env, ...extra });
  const started = await Promise.allSettled([
    ...Array.from({ length: options.messageWorkers ?? 2 }, (_, i) => spawn('message-worker', `message-worker-${i + 1}`, options.messageWorkerEnv)),
    spawn('presence-worker', 'presence-worker'),
    spawn('moderation-worker', 'moderation-worker'),
    ...Array.from({ length: options.gateways ?? 2 }, (_, i) => spawn('gateway', `gateway-${i + 1}`)),
  ]);
  for (const result of started) {
    if (result.status === 'rejected') continue;
    const service = result.value;
    if (service.kind === 'message-worker') topology.messageWorkers.push(service);
    else if (service.kind === 'gateway') topology.gateways.push(service);
    else topology.others.push(service);
  }
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await topology.stop();
    throw failed.reason;
  }
  return topology;
}
