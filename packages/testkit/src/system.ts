// Boots a whole Lomi Chat system inside the test process — N gateways and M message workers,
// each with its own connections, on a namespace of its own so concurrent test files sharing one
// NATS, Redis and Postgres never see each other's traffic.
import { randomBytes } from 'node:crypto';
import { createLogger } from '@lomi/common';
import { loadGatewayConfig, startGateway, type Gateway } from '@lomi/gateway';
import { loadMessageWorkerConfig, startMessageWorker } from '@lomi/message-worker';
import { Encoding, RoomKind, type Room } from '@lomi/protocol';
import { LomiClient } from '@lomi/client';
import { SignJWT } from 'jose';
import WebSocket from 'ws';

export const DEFAULT_URLS = {
  NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
};

export interface SystemOptions {
  gateways?: number;
  messageWorkers?: number;
  /** Overrides for every service's environment (server URLs, limits). */
  env?: Record<string, string>;
}

type MessageWorker = Awaited<ReturnType<typeof startMessageWorker>>;

export interface TestSystem {
  namespace: string;
  env: Record<string, string>;
  gateways: Gateway[];
  workers: MessageWorker[];
  jwtSecret: string;
  serviceToken: string;
  /** A user id unique to this system, so runs against a shared Postgres never collide. */
  user(name: string): string;
  /** A signed user JWT. */
  token(userId: string, claims?: { expiresIn?: string | number; secret?: string; audience?: string }): Promise<string>;
  /** A connected SDK client for `userId` on gateway `gateway` (default 0). */
  connect(userId: string, options?: { gateway?: number; encoding?: Encoding }): Promise<LomiClient>;
  wsUrl(gateway?: number): string;
  httpUrl(gateway?: number): string;
  /** Calls the service API with the service token. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  createLiveRoom(broadcasterId: string): Promise<Room>;
  createPrivateRoom(userA: string, userB: string): Promise<Room>;
  startMessageWorker(): Promise<MessageWorker>;
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
    JWT_SECRET: jwtSecret,
    SERVICE_TOKEN: serviceToken,
    HOST: '127.0.0.1',
    PORT: '0',
    ...options.env,
  };
  const gateways: Gateway[] = [];
  const workers: MessageWorker[] = [];
  const clients = new Set<LomiClient>();

  const system: TestSystem = {
    namespace,
    env,
    gateways,
    workers,
    jwtSecret,
    serviceToken,
    user: (name) => `${name}-${namespace}`,
    async token(userId, claims = {}) {
      let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt();
      jwt = jwt.setExpirationTime(claims.expiresIn ?? '1h');
      if (claims.audience) jwt = jwt.setAudience(claims.audience);
      return jwt.sign(Buffer.from(claims.secret ?? jwtSecret, 'utf8'));
    },
    async connect(userId, opts = {}) {
      const client = await LomiClient.connect({
        url: system.wsUrl(opts.gateway ?? 0),
        token: await system.token(userId),
        encoding: opts.encoding ?? Encoding.PROTO,
        WebSocket: WebSocket as never,
      });
      clients.add(client);
      return client;
    },
    wsUrl: (i = 0) => `ws://127.0.0.1:${gateways[i]!.port}`,
    httpUrl: (i = 0) => `http://127.0.0.1:${gateways[i]!.port}`,
    async api(method, path, body) {
      const res = await fetch(`${system.httpUrl(0)}${path}`, {
        method,
        headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // non-JSON bodies (plain-text errors) are returned as text
      }
      return { status: res.status, body: parsed };
    },
    async createLiveRoom(broadcasterId) {
      const res = await system.api('POST', '/api/v1/live', { broadcaster_id: broadcasterId });
      if (res.status !== 201) throw new Error(`create live stream: ${res.status} ${JSON.stringify(res.body)}`);
      return { kind: RoomKind.ROOM_KIND_LIVE, id: res.body.id };
    },
    async createPrivateRoom(userA, userB) {
      const res = await system.api('POST', '/api/v1/conversations', { user_a: userA, user_b: userB });
      if (res.status !== 201 && res.status !== 200) throw new Error(`create conversation: ${res.status} ${JSON.stringify(res.body)}`);
      return { kind: RoomKind.ROOM_KIND_PRIVATE, id: res.body.id };
    },
    async startMessageWorker() {
      const worker = await startMessageWorker(loadMessageWorkerConfig(env), createLogger('message-worker', env.LOG_LEVEL!));
      workers.push(worker);
      return worker;
    },
    async stop() {
      await Promise.all([...clients].map((c) => c.close().catch(() => undefined)));
      await Promise.all(gateways.map((g) => g.stop().catch(() => undefined)));
      await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
    },
  };

  try {
    for (let i = 0; i < (options.messageWorkers ?? 1); i++) await system.startMessageWorker();
    for (let i = 0; i < (options.gateways ?? 1); i++) {
      gateways.push(await startGateway(loadGatewayConfig(env), createLogger('gateway', env.LOG_LEVEL!)));
    }
  } catch (err) {
    await system.stop();
    throw err;
  }
  return system;
}
