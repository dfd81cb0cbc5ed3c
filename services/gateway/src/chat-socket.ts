// The chat WebSocket's life on this gateway: admitted at the upgrade (chat-upgrade.ts), counted
// in when it opens, each frame decoded and handed to the commands, counted out when it closes.
import { isUtf8 } from 'node:buffer';
import { CloseCode, decodeClientFrame, Encoding, ErrorCode, FrameDecodeError } from '@lomi/protocol';
import { chatUpgrade, type ChatUpgradeDeps } from './chat-upgrade';
import { errorFrame, type CommandHandler } from './commands';
import type { GatewayConfig } from './config';
import type { Connection } from './connection';
import type { PresenceReporter } from './presence-reporter';
import type { SocketOutput } from './socket-output';
import type { TokenLifetime } from './token-lifetime';
import { uws, type WebSocket, type WebSocketBehavior } from './uws';

export interface ChatSocketDeps extends ChatUpgradeDeps {
  config: Pick<GatewayConfig, 'TRUSTED_PROXY_HEADER' | 'MAX_SOCKET_FRAME_BYTES' | 'MAX_FRAME_BYTES' | 'IDLE_TIMEOUT_S' | 'MAX_BACKPRESSURE_BYTES'>;
  /** The open sockets; this adds and removes them. */
  connections: Set<Connection>;
  tokens: Pick<TokenLifetime, 'opened' | 'closed'>;
  presence: Pick<PresenceReporter, 'connected' | 'disconnected'>;
  commands: Pick<CommandHandler, 'handle' | 'disconnect'>;
  output: SocketOutput;
}

export function chatSocket(deps: ChatSocketDeps): WebSocketBehavior<Connection> {
  const { config, connections, limits, tokens, presence, commands, metrics, output } = deps;
  return {
    compression: uws.DISABLED,
    maxPayloadLength: config.MAX_SOCKET_FRAME_BYTES,
    idleTimeout: config.IDLE_TIMEOUT_S,
    sendPingsAutomatically: true,
    maxBackpressure: config.MAX_BACKPRESSURE_BYTES,
    closeOnBackpressureLimit: 1,

    upgrade: chatUpgrade(deps),

    open: (ws: WebSocket<Connection>) => {
      const conn = ws.getUserData();
      conn.ws = ws;
      connections.add(conn);
      limits.opened(conn);
      tokens.opened(conn);
      presence.connected(conn);
      metrics.upgrades.inc({ outcome: 'ok' });
      metrics.connections.set(connections.size);
    },

    message: (ws, data, isBinary) => {
      const conn = ws.getUserData();
      const bytes = Buffer.from(data);
      // Over the content limit but within the socket's: read only so the refusal answers its request.
      const oversized =
        bytes.length > config.MAX_FRAME_BYTES
          ? (requestId: number) =>
              errorFrame(requestId, ErrorCode.ERROR_CODE_TOO_LARGE, `frame of ${bytes.length} bytes is over the ${config.MAX_FRAME_BYTES} accepted (MAX_FRAME_BYTES)`)
          : undefined;
      let frame;
      try {
        if (conn.encoding === Encoding.JSON && (isBinary || !isUtf8(bytes))) {
          throw new FrameDecodeError('JSON encoding expects UTF-8 text frames');
        }
        // Decode before returning: uWS neuters `data` once this handler returns.
        frame = decodeClientFrame(conn.encoding === Encoding.JSON ? bytes.toString('utf8') : new Uint8Array(bytes), conn.encoding);
      } catch (err) {
        metrics.badFrames.inc();
        const requestId = err instanceof FrameDecodeError ? err.requestId : 0;
        output.send(conn, oversized ? oversized(requestId) : errorFrame(requestId, ErrorCode.ERROR_CODE_BAD_REQUEST, (err as Error).message));
        return;
      }
      if (oversized) {
        metrics.badFrames.inc();
        output.send(conn, oversized(frame.requestId));
        return;
      }
      if (conn.tokenExpiresAt * 1000 <= Date.now()) {
        output.close(conn, CloseCode.AUTH_FAILED, 'token expired');
        return;
      }
      void commands.handle(conn, frame);
    },

    close: (ws) => {
      const conn = ws.getUserData();
      conn.closed = true;
      connections.delete(conn);
      limits.closed(conn);
      tokens.closed(conn);
      metrics.connections.set(connections.size);
      commands.disconnect(conn);
      presence.disconnected(conn);
    },
  };
}
