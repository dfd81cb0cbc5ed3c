// An operator's wrong setting stops a service at start with one line per wrong value, before it
// connects to anything: here the gateway's fan-out and batching knobs, its limits and its ports.
import { spawn } from 'node:child_process';
import path from 'node:path';

const GATEWAY_MAIN = path.resolve(__dirname, '../services/gateway/dist/main.js');

function startGateway(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GATEWAY_MAIN], {
      env: { PATH: process.env.PATH, JWT_SECRET: 'x'.repeat(32), SERVICE_TOKEN: 'y'.repeat(24), PORT: '0', ...env },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

test('a gateway given wrong fan-out settings exits at once, naming each one', async () => {
  const { code, stderr } = await startGateway({ FANOUT_TURN_SOCKETS: '0', FANOUT_TURN_BYTES: '-1', BATCH_FRAMES_PER_S: 'fast', BATCH_WINDOW_MS: '500' });
  expect(code).toBe(1);
  expect(stderr).toContain('gateway failed to start: invalid configuration');
  expect(stderr).toMatch(/FANOUT_TURN_SOCKETS="0": .+/);
  expect(stderr).toMatch(/FANOUT_TURN_BYTES="-1": .+/);
  expect(stderr).toMatch(/BATCH_FRAMES_PER_S="fast": .+/);
  expect(stderr).toMatch(/BATCH_WINDOW_MS="500": .+/);
});

test('a gateway given wrong limits, proxy header or metrics port exits at once, naming each one', async () => {
  const { code, stderr } = await startGateway({
    MAX_CONNECTIONS_PER_IP: '0',
    MAX_HANDSHAKES_PER_S_PER_IP: 'lots',
    MAX_TOKEN_LIFETIME_S: '-1',
    TRUSTED_PROXY_HEADER: 'x forwarded for',
    METRICS_PORT: '70000',
  });
  expect(code).toBe(1);
  expect(stderr).toMatch(/MAX_CONNECTIONS_PER_IP="0": .+/);
  expect(stderr).toMatch(/MAX_HANDSHAKES_PER_S_PER_IP="lots": .+/);
  expect(stderr).toMatch(/MAX_TOKEN_LIFETIME_S="-1": .+/);
  expect(stderr).toMatch(/TRUSTED_PROXY_HEADER="x forwarded for": must be a header name/);
  expect(stderr).toMatch(/METRICS_PORT="70000": .+/);
});
