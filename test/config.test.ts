// An operator's wrong setting stops a service at start with one line per wrong value, before it
// connects to anything: here the gateway's fan-out and batching knobs.
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
