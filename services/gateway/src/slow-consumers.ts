// A viewer that cannot keep up must not grow gateway memory without bound. uWS enforces a hard
// limit per socket (maxBackpressure with closeOnBackpressureLimit): it drops the socket abruptly
// (1006), so no frame is ever silently skipped. Before that, this sweep closes with 4001, which
// tells the client why (reconnect and recover):
//  - a socket whose queue passed a softer limit of its own;
//  - the sockets with the largest queues while all queues together exceed the gateway's budget.
//    Per-socket limits alone do not bound a gateway: 10k viewers slightly behind, each under its
//    own limit, can still hold gigabytes.
import { CloseCode } from '@lomi/protocol';
import type { Connection } from './connection';
import type { RoomMember } from './room-member';

export type SlowConsumerLimit = 'socket' | 'gateway';

export interface SlowConsumerSweepOptions {
  /** Bytes queued to one socket before it is closed. */
  socketBytes: number;
  /** Bytes queued to all sockets together before the largest queues are closed. */
  gatewayBytes: number;
  intervalMs: number;
  onSlow(conn: Connection, limit: SlowConsumerLimit): void;
  /** Bytes still queued after each sweep. */
  onSwept(bufferedBytes: number): void;
}

/** Closes a socket that fell too far behind, telling the client to reconnect and recover. */
export function closeSlowConsumer(conn: RoomMember): void {
  if (!conn.closed && conn.ws) conn.ws.end(CloseCode.SLOW_CONSUMER, 'slow consumer; reconnect and recover');
}

export function startSlowConsumerSweep(connections: ReadonlySet<Connection>, options: SlowConsumerSweepOptions): () => void {
  const close = (conn: Connection, limit: SlowConsumerLimit) => {
    options.onSlow(conn, limit);
    closeSlowConsumer(conn);
  };

  const timer = setInterval(() => {
    let total = 0;
    const queued: { conn: Connection; bytes: number }[] = [];
    for (const conn of connections) {
      if (conn.closed || !conn.ws) continue;
      const bytes = conn.ws.getBufferedAmount();
      if (bytes === 0) continue;
      if (bytes > options.socketBytes) {
        close(conn, 'socket');
        continue;
      }
      total += bytes;
      queued.push({ conn, bytes });
    }
    if (total > options.gatewayBytes) {
      // The slowest first: the fewest sockets closed for the most memory back.
      queued.sort((a, b) => b.bytes - a.bytes);
      for (const { conn, bytes } of queued) {
        if (total <= options.gatewayBytes) break;
        close(conn, 'gateway');
        total -= bytes;
      }
    }
    options.onSwept(total);
  }, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
