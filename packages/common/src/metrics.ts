import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Readiness } from './readiness';

/** Each service owns one registry (never the global one) so several can share a process. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'lomi_' });
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
