// Baseline 2, what a Node team would otherwise pick: Socket.IO 4 with the Redis adapter, so
// several nodes share rooms (the orchestrator starts as many as we have gateways). WebSocket
// transport only, no compression: the generator speaks Engine.IO over plain WebSocket.
// A viewer emits "join" (acked once it is in the room); a chatter emits "m" with an ack. In the
// rooms scenario both name their room as the last argument; each room is a Socket.IO room.
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';
import { exitWithParent, tellParent } from '../child';

const ROOM = 'live';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// Channels of this run only, so several runs (or other users of this Redis) never cross.
const channelKey = process.env.SOCKETIO_KEY ?? `bench-${process.pid}`;

const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const server = http.createServer();
const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  serveClient: false,
  adapter: createAdapter(pub, sub, { key: channelKey }),
});

type Ack = () => void;

io.on('connection', (socket) => {
  socket.on('join', (...args: [Ack] | [string, Ack]) => {
    const ack = args.pop() as Ack;
    void socket.join((args[0] as string | undefined) ?? ROOM);
    ack();
  });
  socket.on('m', (text: string, ...args: [Ack] | [string, Ack]) => {
    const ack = args.pop() as Ack;
    io.to((args[0] as string | undefined) ?? ROOM).emit('m', text);
    ack();
  });
});

void Promise.all([pub, sub].map((client) => new Promise((resolve) => client.once('ready', resolve)))).then(() => {
  server.listen(0, '127.0.0.1', () => tellParent({ type: 'ready', port: (server.address() as AddressInfo).port }));
});
exitWithParent(() => {
  pub.disconnect();
  sub.disconnect();
});
