// The far end of the hop-cost probe (hop-cost.ts): echoes whatever it reads.
import net from 'node:net';
import { exitWithParent, tellParent } from './child';

exitWithParent();
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', (data) => socket.write(data));
});
server.listen(0, '127.0.0.1', () => tellParent({ port: (server.address() as net.AddressInfo).port }));
