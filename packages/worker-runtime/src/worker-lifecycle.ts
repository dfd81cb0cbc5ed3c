// The life of every worker, in one place: its own connections, metrics registry and context;
// handlers wired on a queue-group responder; its /metrics, /healthz and /readyz on METRICS_PORT;
// and an ordered stop — stop taking requests, let the background jobs finish, then close the
// connections (NATS before the stores it uses).
import { busDependency, createSubjects, type Bus, type Subjects } from '@lomi/bus';
import { sql } from '@lomi/db';
import { hotStateDependency } from '@lomi/hot-state';
import type { RoomStores } from '@lomi/rooms';
import { createRegistry, OwnedConnections, probedDependency, Readiness, serveMetrics, type Logger, type Stoppable } from '@lomi/service-runtime';
import type { Registry } from 'prom-client';
import { connectWorker, type WorkerEnv } from './connect';
import { createResponder, type Responder } from './responder';

/** Everything one worker instance uses; passed explicitly so several workers can share a process. */
export interface WorkerContext<Config, Metrics> extends RoomStores {
  config: Config;
  log: Logger;
  bus: Bus;
  subjects: Subjects;
  metrics: Metrics;
}

export interface RunningWorker {
  /** This worker's metrics (its own registry), served on metricsPort. */
  readonly registry: Registry;
  /** The port of its /metrics, /healthz and /readyz (METRICS_PORT; 0 picks a free one). */
  readonly metricsPort: number;
  /** Stops taking requests, answers those in hand, stops its background jobs, closes its connections. */
  stop(): Promise<void>;
}

export interface WorkerDefinition<Config, Metrics> {
  /** Service name, for NATS, metrics and logs. */
  name: string;
  queueGroup: string;
  createMetrics(registry: Registry): Metrics;
  /** Wires handlers on `responder` and starts background jobs; returns them, stopped in order after the responder drains. */
  wire(ctx: WorkerContext<Config, Metrics>, responder: Responder): Stoppable[] | Promise<Stoppable[]>;
}

export async function startWorker<Config extends WorkerEnv, Metrics>(definition: WorkerDefinition<Config, Metrics>, config: Config, log: Logger): Promise<RunningWorker> {
  const connections = new OwnedConnections(log);
  let stopping = false;
  try {
    const { bus, ...stores } = await connectWorker(definition.name, config, connections, log);
    const registry = createRegistry(definition.name, config);
    const readiness = connections.own(
      new Readiness([busDependency(bus), hotStateDependency(stores.hot), probedDependency('postgres', () => sql`select 1`.execute(stores.db))], () => stopping),
      async (r) => r.close(),
    );
    // Closed first when the worker stops: /readyz says 503 while requests in hand are answered.
    const server = connections.own(await serveMetrics({ registry, readiness, port: config.METRICS_PORT }), (s) => s.close());
    const ctx: WorkerContext<Config, Metrics> = {
      ...stores,
      config,
      log,
      bus,
      subjects: createSubjects(config.LOMI_NAMESPACE),
      metrics: definition.createMetrics(registry),
    };
    const responder = createResponder(bus, definition.queueGroup, log);
    const jobs = await definition.wire(ctx, responder);
    // Subscriptions are buffered until the next write; a worker that calls itself started before
    // the server has them would let the first requests meet "no responders".
    await bus.flush();
    log.info({ namespace: config.LOMI_NAMESPACE, metricsPort: server.port }, `${definition.name} started`);
    return {
      registry,
      metricsPort: server.port,
      async stop() {
        stopping = true;
        await responder.drain();
        for (const job of jobs) await job.stop();
        await connections.close();
        log.info(`${definition.name} stopped`);
      },
    };
  } catch (err) {
    await connections.close();
    throw err;
  }
}
