import { connect, type NatsConnection } from 'nats';
import { UnavailableError } from './failures';
import type { Logger } from './logger';

/** Unreachable dependency at start: the message names the URL so the operator knows what to fix. */
export class UnreachableError extends UnavailableError {
  override name = 'UnreachableError';
}

/**
 * Connects to NATS and keeps reconnecting forever afterwards: a NATS blip must not kill a
 * gateway or a worker. Failing to connect at start is fatal with the URL in the message.
 */
export async function connectNats(url: string, name: string, log: Logger): Promise<NatsConnection> {
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
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'error') log.warn({ nats: s.type, data: String(s.data) }, 'NATS connection problem');
      else if (s.type === 'reconnect') log.info({ nats: s.type }, 'NATS reconnected');
    }
  })();
  return nc;
}
