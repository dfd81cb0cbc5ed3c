// The bus over NATS: one connection per service, reconnecting forever (a NATS blip must not kill
// a gateway or a worker), requests over one inbox subscription of its own.
import { UnreachableError } from '@lomi/errors';
import type { Logger } from '@lomi/service-runtime';
import { connect, createInbox, Events, NatsError, type Msg, type NatsConnection } from 'nats';
import { BusClosedError, NoResponderError, PayloadTooLargeError, type Bus, type BusMessage, type BusStatus } from './bus';
import { MEMORY_BUS_SCHEME, processBroker } from './memory-bus';

export interface NatsBusOptions {
  /** How long a request waits for its reply. */
  requestTimeoutMs: number;
}

/**
 * The bus a NATS_URL names: NATS (a comma-separated server list), or with `memory:<name>` the
 * process's in-memory broker of that name (every service of one process on one bus, no server).
 */
export async function connectBus(url: string, name: string, log: Logger, options: NatsBusOptions): Promise<Bus> {
  if (url.startsWith(MEMORY_BUS_SCHEME)) return processBroker(url.slice(MEMORY_BUS_SCHEME.length)).connect(options);
  return connectNatsBus(url, name, log, options);
}

/** Connects to NATS (a comma-separated server list); failing at start is fatal, with the URL in the message. */
export async function connectNatsBus(url: string, name: string, log: Logger, options: NatsBusOptions): Promise<Bus> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: url.split(',').map((s) => s.trim()),
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: 3000,
      pingInterval: 10_000,
      // nats.js captures a stack trace (new Error) for every request otherwise: a measurable
      // share of a gateway's CPU at thousands of requests a second. Our timeouts name the subject.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new UnreachableError(`cannot reach NATS at ${url}: ${(err as Error).message}`, { cause: err });
  }
  return createNatsBus(nc, log, options);
}

// nats.js codes of a connection that takes nothing more.
const CLOSED_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_DRAINING', 'DISCONNECT']);

/** A nats.js error as the bus's own: closed, too large, or (anything else) as it was. */
function busError(err: unknown): unknown {
  if (!(err instanceof NatsError)) return err;
  if (CLOSED_CODES.has(err.code)) return new BusClosedError(`NATS connection ${err.code.toLowerCase()}`, { cause: err });
  if (err.code === 'MAX_PAYLOAD_EXCEEDED') return new PayloadTooLargeError(err.message, { cause: err });
  return err;
}

type Pending = { subject: string; resolve: (data: Uint8Array) => void; reject: (err: Error) => void; deadline: number };

export function createNatsBus(nc: NatsConnection, log: Logger, { requestTimeoutMs }: NatsBusOptions): Bus {
  const listeners = new Set<(status: BusStatus) => void>();
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      // Their data is a string: the server's address or the error's message.
      if (s.type === Events.Disconnect || s.type === Events.Error) log.warn({ nats: s.type, data: s.data }, 'NATS connection problem');
      else if (s.type === Events.Reconnect) log.info({ nats: s.type }, 'NATS reconnected');
      const status = s.type === Events.Disconnect ? 'disconnected' : s.type === Events.Reconnect ? 'reconnected' : undefined;
      if (!status) continue;
      connected = status === 'reconnected';
      for (const listener of listeners) listener(status);
    }
  })();

  function publish(subject: string, data: Uint8Array, reply?: string): void {
    try {
      nc.publish(subject, data, reply ? { reply } : undefined);
    } catch (err) {
      throw busError(err);
    }
  }

  // Requests share one inbox subscription instead of nats.js's request(), which allocates a
  // request object, a deferred, a timer and, on every success, an error with a stack trace; a
  // gateway makes thousands a second. Here a request is a map entry and its promise, and one
  // timer sweeps the expired ones.
  const inbox = createInbox();
  const pending = new Map<number, Pending>();
  let lastId = 0;
  const fail = (id: number, request: Pending, why: string, cause?: unknown) => {
    pending.delete(id);
    request.reject(new NoResponderError(`no answer on ${request.subject}: ${why}`, { cause }));
  };
  const replies = nc.subscribe(`${inbox}.*`, {
    callback: (err, msg) => {
      if (err) return;
      const id = Number(msg.subject.slice(inbox.length + 1));
      const request = pending.get(id);
      if (!request) return; // answered after its timeout
      // NATS answers a request nobody is subscribed to with an empty 503: say so now.
      if (msg.data.length === 0 && msg.headers?.code === 503) return fail(id, request, 'no responders');
      pending.delete(id);
      request.resolve(msg.data);
    },
  });
  // Every request has the same timeout, so the map (in insertion order) is in deadline order.
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const [id, request] of pending) {
        if (request.deadline > now) break;
        fail(id, request, `timeout after ${requestTimeoutMs} ms`);
      }
    },
    Math.min(1000, Math.max(10, requestTimeoutMs / 10)),
  );
  sweep.unref();
  void replies.closed.then(() => {
    clearInterval(sweep);
    for (const [id, request] of pending) fail(id, request, 'connection closed');
  });

  const message = (msg: Msg): BusMessage => ({ subject: msg.subject, data: msg.data, respond: (data) => msg.respond(data) });

  return {
    publish: (subject, data) => publish(subject, data),

    subscribe(subject, handler, options = {}) {
      const subscription = nc.subscribe(subject, {
        queue: options.queue,
        callback: (err, msg) => {
          if (err) return log.warn({ err, subject }, 'subscription error');
          handler(message(msg));
        },
      });
      return { unsubscribe: () => subscription.unsubscribe(), drain: () => subscription.drain() };
    },

    request(subject, data) {
      return new Promise<Uint8Array>((resolve, reject) => {
        const id = ++lastId;
        const request: Pending = { subject, resolve, reject, deadline: performance.now() + requestTimeoutMs };
        pending.set(id, request);
        try {
          publish(subject, data, `${inbox}.${id}`);
        } catch (err) {
          if (err instanceof BusClosedError) return fail(id, request, err.message, err);
          pending.delete(id);
          reject(err);
        }
      });
    },

    async flush() {
      try {
        await nc.flush();
      } catch (err) {
        throw busError(err);
      }
    },

    async drain() {
      if (!nc.isClosed() && !nc.isDraining()) await nc.drain();
    },

    get maxPayload() {
      return nc.info?.max_payload ?? 1024 * 1024;
    },

    onStatus(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    isConnected: () => connected && !nc.isClosed(),
  };
}
