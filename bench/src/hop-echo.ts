// The far end of the hop-cost probes (hop-cost.ts): echoes whatever it reads over TCP, and
// answers every NATS request on HOP_SUBJECT with its own data.
import net from 'node:net';
import { connectNats, createLogger } from '@lomi/common';
import { exitWithParent, tellParent } from './child';

async function main(): Promise<void> {
  const nc = await connectNats(process.env.NATS_URL!, 'bench-hop-echo', createLogger('hop-echo', 'silent'));
  exitWithParent(() => void nc.close());
  nc.subscribe(process.env.HOP_SUBJECT!, { callback: (_err, msg) => msg.respond(msg.data) });
  await nc.flush();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (data) => socket.write(data));
  });
  server.listen(0, '127.0.0.1', () => tellParent({ port: (server.address() as net.AddressInfo).port }));
}

void main();
