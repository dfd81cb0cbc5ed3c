// A viewer that cannot keep up must not grow gateway memory without bound. uWS enforces a hard
// limit (maxBackpressure with closeOnBackpressureLimit): it drops the socket abruptly (1006),
// so no frame is ever silently skipped. Before that, this sweep closes sockets whose queue
// passed a softer limit with 4001, which tells the client why: reconnect and recover.
import { CloseCode } from '@lomi/protocol';
import type { Connection } from './connection';

export function startSlowConsumerSweep(
  connections: ReadonlySet<Connection>,
  softLimitBytes: number,
  intervalMs: number,
  onSlow: (conn: Connection) => void,
): () => void {
  const timer = setInterval(() => {
    for (const conn of connections) {
      if (!conn.closed && conn.ws && conn.ws.getBufferedAmount() > softLimitBytes) {
        onSlow(conn);
        conn.ws.end(CloseCode.SLOW_CONSUMER, 'slow consumer; reconnect and recover');
      }
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
