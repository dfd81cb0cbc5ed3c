// The far end of the hop-cost probes (hop-cost.ts): echoes whatever it reads over TCP, and
// answers every NATS request on HOP_SUBJECT with its own data.
import net from 'node:net';
import { connectNatsBus } from '@lomi/bus';
import { createLogger } from '@lomi/service-runtime';
import { exitWithParent, tellParent } from './child';

async function main(): Promise<void> {
  const bus = await connectNatsBus(process.env.NATS_URL!, 'bench-hop-echo', createLogger('hop-echo', 'silent'), { requestTimeoutMs: 5000 });
  exitWithParent(() => void bus.drain());
  bus.subscribe(process.env.HOP_SUBJECT!, (msg) => msg.respond(msg.data));
  await bus.flush();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (data) => socket.write(data));
  });
  server.listen(0, '127.0.0.1', () => tellParent({ port: (server.address() as net.AddressInfo).port }));
}

void main();
