import type { Logger } from './logger';

/**
 * The connections a service opened, closed newest first — NATS before the stores its handlers
 * use — when the service stops, or when its start fails half way.
 */
export class OwnedConnections {
  private readonly closers: (() => Promise<unknown>)[] = [];

  constructor(private readonly log: Logger) {}

  /** Registers how to close a connection just opened, and returns it. */
  own<T>(connection: T, close: (connection: T) => Promise<unknown>): T {
    this.closers.unshift(() => close(connection));
    return connection;
  }

  async close(): Promise<void> {
    for (const closer of this.closers.splice(0)) {
      await closer().catch((err: unknown) => this.log.warn({ err }, 'closing a connection failed'));
    }
  }
}
