import type { Dependency } from '@lomi/service-runtime';
import type { Bus } from './bus';

/** The bus as a readiness probe sees it: down from a disconnect until it reconnects, or once closed. */
export function busDependency(bus: Bus): Dependency {
  return { name: 'nats', isUp: () => bus.isConnected() };
}
