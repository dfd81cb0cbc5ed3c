import { collectDefaultMetrics, Registry } from 'prom-client';

/** Each service owns one registry (never the global one) so several can share a process. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'lomi_' });
  return registry;
}
