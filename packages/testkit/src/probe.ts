// Whether a server answers on a socket, by a short exchange of its own protocol.
import net from 'node:net';

const PROBE_TIMEOUT_MS = 1_000;

/**
 * Connects, lets `onConnect` write, feeds received bytes to `onData` until it
 * returns true (ready) or false (not ready). Any error or timeout → false.
 */
export function probe(
  connect: net.NetConnectOpts,
  onConnect: (sock: net.Socket) => void,
  onData: (buf: Buffer, sock: net.Socket) => boolean | undefined,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let done = false;
    let buf = Buffer.alloc(0);
    const sock = net.createConnection(connect);
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('connect', () => {
      try {
        onConnect(sock);
      } catch {
        finish(false);
      }
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      let verdict: boolean | undefined;
      try {
        verdict = onData(buf, sock);
      } catch {
        verdict = false;
      }
      if (verdict !== undefined) finish(verdict);
    });
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
  });
}
