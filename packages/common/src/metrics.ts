import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

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

/**
 * Serves GET /metrics (and /healthz) for a worker on its own port; gateways serve theirs on the
 * WebSocket listener. Returns a function that closes the server.
 */
export async function serveMetrics(registry: Registry, port: number, host = '0.0.0.0'): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
