// Readiness, the same way in every service: a service is ready while every server it needs
// answers and it is not stopping. Liveness (/healthz) is separate and never looks at these: a
// NATS or Redis outage must take a pod out of rotation, not get it restarted.

/** A server a service needs, as its readiness probe sees it; isUp() is cheap (read per probe). */
export interface Dependency {
  readonly name: string;
  isUp(): boolean;
  /** Stops watching it (timers, event streams). */
  close?(): void;
}

export const PROBE_INTERVAL_MS = 2000;
export const PROBE_TIMEOUT_MS = 2000;

/**
 * A server whose client keeps no state to read (a pg pool connects per query): `check` runs
 * every `intervalMs`, one at a time, and the last answer is kept. One that has not answered
 * within `timeoutMs` counts as down until it does.
 */
export function probedDependency(name: string, check: () => Promise<unknown>, { intervalMs = PROBE_INTERVAL_MS, timeoutMs = PROBE_TIMEOUT_MS } = {}): Dependency {
  let up = true;
  let inFlight = false;
  const probe = () => {
    if (inFlight) return;
    inFlight = true;
    const late = setTimeout(() => (up = false), timeoutMs).unref();
    Promise.resolve()
      .then(check)
      .then(
        () => (up = true),
        () => (up = false),
      )
      .finally(() => {
        clearTimeout(late);
        inFlight = false;
      });
  };
  const timer = setInterval(probe, intervalMs).unref();
  return { name, isUp: () => up, close: () => clearInterval(timer) };
}

export class Readiness {
  constructor(
    private readonly dependencies: Dependency[],
    private readonly isStopping: () => boolean,
  ) {}

  /** Each dependency and whether it is up now (lomi_dependency_up). */
  states(): { name: string; up: boolean }[] {
    return this.dependencies.map((d) => ({ name: d.name, up: d.isUp() }));
  }

  /** What keeps the service from taking work; empty when it is ready. */
  blockers(): string[] {
    const down = this.dependencies.filter((d) => !d.isUp()).map((d) => `${d.name} unreachable`);
    return this.isStopping() ? ['stopping', ...down] : down;
  }

  /** The answer to GET /readyz: 200 "ready", or 503 naming what is wrong. */
  answer(): { ready: boolean; text: string } {
    const blockers = this.blockers();
    return blockers.length === 0 ? { ready: true, text: 'ready\n' } : { ready: false, text: `not ready: ${blockers.join(', ')}\n` };
  }

  close(): void {
    for (const d of this.dependencies) d.close?.();
  }
}
