import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Readiness } from './readiness';

/** What lomi_build_info says about the running build (LOMI_VERSION, LOMI_COMMIT in commonEnv). */
export interface BuildInfo {
  LOMI_VERSION: string;
  LOMI_COMMIT?: string;
}

/**
 * Each service owns one registry (never the global one) so several can share a process. Node's
 * process metrics keep their standard names (process_*, nodejs_*) so stock Node.js dashboards
 * find them; lomi_build_info says which build runs, for dashboards and alerts to join on.
 */
export function createRegistry(service: string, build: BuildInfo = { LOMI_VERSION: 'dev' }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const info = new Gauge({
    name: 'lomi_build_info',
    help: 'Always 1; its labels name the running build (version, and commit when known)',
    labelNames: ['version', 'commit'] as const,
    registers: [registry],
  });
  info.set({ version: build.LOMI_VERSION, commit: build.LOMI_COMMIT ?? '' }, 1);
  return registry;
}

/**
 * Buckets for request latencies, in seconds: fine around the 15 ms a sender's ack should take at
 * p99, so a dashboard tells 10 ms from 20, and coarse out to the seconds of a timeout.
 */
export const LATENCY_BUCKETS = [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A worker's time to answer a client command, from the request's arrival to its reply. */
export function createCommandSeconds(registry: Registry): Histogram<'command' | 'outcome'> {
  return new Histogram({
    name: 'lomi_worker_command_seconds',
    help: 'Time a worker takes to answer a client command forwarded by a gateway, from request to reply',
    labelNames: ['command', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves a service's operations endpoints on a port of its own, apart from client traffic:
 * GET /metrics (Prometheus), /healthz (liveness: the process answers) and /readyz (readiness).
 */
export async function serveMetrics(options: { registry: Registry; readiness: Readiness; port: number; host?: string }): Promise<MetricsServer> {
  const { registry, readiness } = options;
  // Read at each scrape from what /readyz sees, so the two never disagree.
  new Gauge({
    name: 'lomi_dependency_up',
    help: 'Whether this service reaches a server it needs (1) or not (0), as its readiness probe sees it',
    labelNames: ['dependency'] as const,
    registers: [registry],
    collect() {
      for (const { name, up } of readiness.states()) this.set({ dependency: name }, up ? 1 : 0);
    },
  });
  const server = createServer((req, res) => {
    if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (req.url === '/readyz') {
      const { ready, text } = readiness.answer();
      return void res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(text);
    }
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port, options.host ?? '0.0.0.0', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
