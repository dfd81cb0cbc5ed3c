// A minimal WebSocket client over a raw TCP socket. The `ws` package costs a stream pipeline,
// a Buffer per read and an event per frame; at 10^5–10^6 frames/s per core that makes the
// generator, not the server, the bottleneck. Here every socket reads into one shared buffer
// (onread callbacks run synchronously, so a frame is handled — or the unread tail copied —
// before the next read overwrites it) and frames are handed over as offsets into it.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { nowUs } from '../payload';

const READ_BUFFER = Buffer.allocUnsafe(1 << 18);
const HEADERS_END = Buffer.from('\r\n\r\n');

export const Opcode = { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

export interface WsHandlers {
  onOpen(): void;
  /** The payload is buf[start, end), valid only during the call; `now` is the read's receipt time in µs. */
  onMessage(buf: Buffer, start: number, end: number, now: number): void;
  onClose(code: number, reason: string): void;
}

export class WsConn {
  private readonly socket: net.Socket;
  private upgraded = false;
  private carry: Buffer | undefined;
  closed = false;

  constructor(
    port: number,
    path: string,
    headers: Record<string, string>,
    private readonly handlers: WsHandlers,
  ) {
    this.socket = net.connect({
      host: '127.0.0.1',
      port,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (nread: number) => {
          this.onRead(nread);
          return true;
        },
      },
    });
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    this.socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
    );
    this.socket.on('error', (err) => this.finish(1006, err.message));
    this.socket.on('close', () => this.finish(1006, 'connection lost'));
  }

  send(payload: Uint8Array | string, opcode: number = typeof payload === 'string' ? Opcode.TEXT : Opcode.BINARY): void {
    if (this.closed) return;
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const length = data.length;
    const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(header + 4 + length);
    frame[0] = 0x80 | opcode;
    if (length < 126) frame[1] = 0x80 | length;
    else if (length < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(length), 2);
    }
    // Clients must mask (RFC 6455 §5.3); servers close the connection otherwise.
    frame.writeUInt32BE((Math.random() * 0x100000000) >>> 0, header);
    for (let i = 0; i < length; i++) frame[header + 4 + i] = data[i]! ^ frame[header + (i & 3)]!;
    this.socket.write(frame);
  }

  close(): void {
    if (this.closed) return;
    this.send(Buffer.from([0x03, 0xe8]), Opcode.CLOSE);
    this.closed = true;
    this.socket.end();
  }

  private finish(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.handlers.onClose(code, reason);
  }

  private onRead(nread: number): void {
    const now = nowUs();
    let buf = READ_BUFFER.subarray(0, nread);
    if (this.carry) {
      buf = Buffer.concat([this.carry, buf]);
      this.carry = undefined;
    }
    let offset = 0;
    if (!this.upgraded) {
      const headersEnd = buf.indexOf(HEADERS_END);
      if (headersEnd < 0) {
        this.carry = Buffer.from(buf);
        return;
      }
      const statusLine = buf.toString('latin1', 0, buf.indexOf('\r\n'));
      if (!statusLine.startsWith('HTTP/1.1 101')) {
        return this.finish(1002, `upgrade refused: ${statusLine} ${buf.toString('utf8', headersEnd + 4).slice(0, 200)}`);
      }
      this.upgraded = true;
      offset = headersEnd + 4;
      this.handlers.onOpen();
    }
    offset = this.parseFrames(buf, offset, now);
    if (offset < buf.length && !this.closed) this.carry = Buffer.from(buf.subarray(offset));
  }

  /** Handles every complete frame from `offset`; returns where the incomplete tail starts. */
  private parseFrames(buf: Buffer, offset: number, now: number): number {
    const end = buf.length;
    while (end - offset >= 2 && !this.closed) {
      const opcode = buf[offset]! & 0x0f;
      let length = buf[offset + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (end - offset < 4) break;
        length = buf.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (end - offset < 10) break;
        length = buf.readUIntBE(offset + 4, 6);
        header = 10;
      }
      const start = offset + header;
      if (end - start < length) break;
      offset = start + length;
      if (opcode === Opcode.TEXT || opcode === Opcode.BINARY) this.handlers.onMessage(buf, start, offset, now);
      else if (opcode === Opcode.PING) this.send(buf.subarray(start, offset), Opcode.PONG);
      else if (opcode === Opcode.CLOSE) {
        const code = length >= 2 ? buf.readUInt16BE(start) : 1005;
        this.finish(code, buf.toString('utf8', start + 2, offset));
      } else if (opcode === Opcode.CONTINUATION) {
        // None of the three servers fragments frames this small; counting a fragment as a
        // whole message would corrupt the figures, so fail loudly instead.
        this.finish(1002, 'unexpected fragmented frame');
      }
    }
    return offset;
  }
}
