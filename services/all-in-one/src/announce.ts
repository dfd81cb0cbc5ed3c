// What `pnpm start` prints once it is up: where to connect and, when the development token routes
// are on, how to get a token and a room to try. Readable lines on a terminal, one JSON log line
// otherwise (so a log collector sees the same fields).
import type { Logger } from '@lomi/service-runtime';

export interface Running {
  port: number;
  devTokens: boolean;
  webClient: boolean;
  metrics: Record<string, number>;
}

export function announce(log: Logger, running: Running): void {
  const http = `http://localhost:${running.port}`;
  const ws = `ws://localhost:${running.port}/api/v1/ws/chat`;
  const tryIt = running.devTokens
    ? [
        `curl -s -XPOST ${http}/api/v1/dev/token -d '{"userId":"alice"}'   # → {"token": …}`,
        `curl -s -XPOST ${http}/api/v1/dev/live -H "Authorization: Bearer $TOKEN"   # a live stream alice broadcasts`,
        `curl -s -XPOST ${http}/api/v1/dev/conversations -H "Authorization: Bearer $TOKEN" -d '{"peerId":"bob"}'   # alice ↔ bob`,
        `then connect to ${ws}?token=$TOKEN (docs/protocol.md)`,
      ]
    : undefined;
  if (!process.stdout.isTTY) {
    log.info({ ws, http, webClient: running.webClient ? `${http}/` : undefined, tryIt, metricsPorts: running.metrics }, 'Lomi Chat is running');
    return;
  }
  const lines = [
    'Lomi Chat is running',
    `  WebSocket   ${ws}`,
    `  HTTP API    ${http}/api/v1 (docs/protocol.md, README "Service API")`,
    ...(running.webClient ? [`  Web client  ${http}/`] : []),
    `  Metrics     ${Object.entries(running.metrics)
      .map(([name, port]) => `${name} :${port}`)
      .join(', ')}`,
    ...(tryIt ? ['  Try it (development token routes, DEV_TOKENS=true):', ...tryIt.map((line) => `    ${line}`)] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
