// Writes to one socket. uWS drops a frame that would take the socket past its backpressure limit;
// the client would then miss a reply without a word, so the socket is closed as a slow consumer
// instead, and the client reconnects and recovers.
import { Encoding, encodeServerFrame, type ServerFrame } from '@lomi/protocol';
import type { GatewayMetrics } from './metrics';
import type { RoomMember } from './room-member';
import { closeSlowConsumer } from './slow-consumers';

/** ws.send's status for a frame dropped over the backpressure limit. */
const DROPPED = 2;

export interface SocketOutput {
  /** Sends `frame` in the socket's encoding; nothing on a closed socket. */
  send(socket: RoomMember, frame: ServerFrame): void;
  /** Closes the socket with a WebSocket close code; nothing on a closed socket. */
  close(socket: RoomMember, code: number, reason: string): void;
}

export function createSocketOutput(metrics: Pick<GatewayMetrics, 'slowConsumers'>): SocketOutput {
  return {
    send(socket, frame) {
      if (socket.closed || !socket.ws) return;
      const status = socket.ws.send(encodeServerFrame(frame, socket.encoding), socket.encoding === Encoding.PROTO);
      if (status === DROPPED) {
        metrics.slowConsumers.inc({ limit: 'socket' });
        closeSlowConsumer(socket);
      }
    },
    close(socket, code, reason) {
      if (socket.closed || !socket.ws) return;
      socket.ws.end(code, reason);
    },
  };
}
