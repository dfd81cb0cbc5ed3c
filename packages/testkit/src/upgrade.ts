// What a gateway answers to a WebSocket upgrade, for tests of who may connect.
import WebSocket from 'ws';

export interface UpgradeAnswer {
  /** 101 when upgraded, else the refusal's HTTP status. */
  status: number;
  /** The refusal's body ('' when upgraded). */
  body: string;
}

/** Attempts an upgrade and reports the HTTP status and body the server answered with; an upgraded socket is closed at once. */
export function attemptUpgrade(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<UpgradeAnswer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
    ws.on('upgrade', (res) => {
      resolve({ status: res.statusCode ?? 0, body: '' });
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}
