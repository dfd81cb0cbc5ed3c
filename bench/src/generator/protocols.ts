// How each server under test is spoken to. All three share the transport (WsConn) and the
// message text; they differ in the upgrade, the join round trip, framing and the sender's ack:
//   ours      protobuf ClientFrame/ServerFrame, JWT on upgrade, join → joined, send → ack{seq}
//   uws       raw text; "join" → "joined"; a chatter's message is echoed back to it as its ack
//   socketio  Engine.IO v4 / Socket.IO v5 packets over WebSocket; emits with ack ids
// In the rooms scenario each peer has a room of its own (Peer.room) and names it on join and send.
import { decodeServerFrame, Encoding, encodeClientFrame, RoomKind } from '@lomi/protocol';
import type { RoomRef } from '../ipc';
import { HEAD, messageText, nowUs, readHead } from '../payload';
import type { Peer, Recorder } from './recorder';

export interface Protocol {
  path: string;
  headers(peer: Peer): Record<string, string>;
  /** The socket is upgraded: start joining (viewer) or whatever makes a chatter able to send. */
  opened(peer: Peer): void;
  message(peer: Peer, buf: Buffer, start: number, end: number, now: number): void;
  send(peer: Peer, scenario: number, n: number): void;
}

const ascii = (s: string) => s.charCodeAt(0);

// --- ours ----------------------------------------------------------------------------------

// A protobuf reader just deep enough to find ChatMessage.content in `message` and `batch`
// pushes, without decoding the rest; protobufjs would allocate a message object (and a Long
// for the seq) per delivery. Replies are rare and go through @lomi/protocol instead.
let varintValue = 0;
function readVarint(buf: Buffer, pos: number): number {
  let byte = buf[pos++]!;
  varintValue = byte & 0x7f;
  let scale = 128;
  while (byte & 0x80) {
    byte = buf[pos++]!;
    varintValue += (byte & 0x7f) * scale;
    scale *= 128;
  }
  return pos;
}

function skipField(buf: Buffer, pos: number, wireType: number): number {
  if (wireType === 0) return readVarint(buf, pos);
  if (wireType === 1) return pos + 8;
  if (wireType === 5) return pos + 4;
  if (wireType === 2) return readVarint(buf, pos) + varintValue;
  throw new Error(`unsupported protobuf wire type ${wireType}`);
}

const SERVER_FRAME_REQUEST_ID = 1;
const SERVER_FRAME_MESSAGE = 20;
const SERVER_FRAME_BATCH = 21;
const LENGTH_DELIMITED = 2;
const BATCH_MESSAGES_TAG = (1 << 3) | LENGTH_DELIMITED;
const CHAT_MESSAGE_CONTENT_TAG = (6 << 3) | LENGTH_DELIMITED;

// The walk below runs a million times a second at 10k viewers, on the generator's one core: it
// is written without per-frame closures and stops at a message's content (fields after it are
// not read), so that the generator spends on a delivery of ours about what it spends on one
// of the baselines' bare-text frames.

/**
 * The start of the body of the next length-delimited field `tag` in buf[pos, end), with its
 * length left in varintValue; -1 when there is none.
 */
function nextField(buf: Buffer, pos: number, end: number, tag: number): number {
  while (pos < end) {
    pos = readVarint(buf, pos);
    if (varintValue === tag) return readVarint(buf, pos);
    pos = skipField(buf, pos, varintValue & 7);
  }
  return -1;
}

/** Records the delivery of the ChatMessage in buf[pos, end). */
function deliverMessage(recorder: Recorder, peer: Peer, buf: Buffer, pos: number, end: number, now: number): void {
  const content = nextField(buf, pos, end, CHAT_MESSAGE_CONTENT_TAG);
  if (content >= 0) recorder.delivery(peer, buf, content, content + varintValue, now);
}

/** Records the delivery of every ChatMessage of the MessageBatch in buf[pos, end). */
function deliverBatch(recorder: Recorder, peer: Peer, buf: Buffer, pos: number, end: number, now: number): void {
  while ((pos = nextField(buf, pos, end, BATCH_MESSAGES_TAG)) >= 0) {
    const messageEnd = pos + varintValue;
    deliverMessage(recorder, peer, buf, pos, messageEnd, now);
    pos = messageEnd;
  }
}

const wireRoom = (room: RoomRef) => ({ kind: room.kind === 'private' ? RoomKind.ROOM_KIND_PRIVATE : RoomKind.ROOM_KIND_LIVE, id: room.id });

/** `roomId`: the room of peers without one of their own (every peer outside the rooms scenario). */
export function oursProtocol(recorder: Recorder, roomId: string | undefined, tokens: Map<string, string>): Protocol {
  const room = roomId === undefined ? undefined : wireRoom({ kind: 'live', id: roomId });
  const join = room && encodeClientFrame({ requestId: 1, join: { room } }, Encoding.PROTO);
  const roomOf = (peer: Peer) => (peer.room ? wireRoom(peer.room) : room!);

  function reply(peer: Peer, buf: Buffer, start: number, end: number, now: number): void {
    const frame = decodeServerFrame(buf.subarray(start, end), Encoding.PROTO);
    if (frame.joined) peer.ready?.();
    else if (frame.ack) {
      recorder.acknowledged(peer, peer.inflight.get(frame.requestId), now);
      peer.inflight.delete(frame.requestId);
    } else if (frame.error) {
      if (peer.fail) peer.fail(`join refused: ${frame.error.message}`);
      else if (peer.inflight.delete(frame.requestId)) recorder.refused(`${frame.error.code}: ${frame.error.message}`);
    }
  }

  return {
    path: '/api/v1/ws/chat',
    headers: (peer) => ({ authorization: `Bearer ${tokens.get(peer.user)}`, 'sec-websocket-protocol': Encoding.PROTO }),
    // Chatters join too: a live room takes sends only from sockets that joined it.
    opened(peer) {
      peer.conn!.send(peer.room ? encodeClientFrame({ requestId: 1, join: { room: wireRoom(peer.room) } }, Encoding.PROTO) : join!);
    },
    message(peer, buf, start, end, now) {
      let pos = start;
      let push = false;
      const deliveriesBefore = recorder.deliveries;
      while (pos < end) {
        pos = readVarint(buf, pos);
        const field = varintValue >>> 3;
        const wireType = varintValue & 7;
        if (wireType === LENGTH_DELIMITED && (field === SERVER_FRAME_MESSAGE || field === SERVER_FRAME_BATCH)) {
          // A chatter's pushes are not the deliveries measured (viewers' are).
          if (!peer.viewer) return;
          pos = readVarint(buf, pos);
          const bodyEnd = pos + varintValue;
          if (field === SERVER_FRAME_MESSAGE) deliverMessage(recorder, peer, buf, pos, bodyEnd, now);
          else deliverBatch(recorder, peer, buf, pos, bodyEnd, now);
          pos = bodyEnd;
          push = true;
        } else if (field === SERVER_FRAME_REQUEST_ID || !push) {
          return reply(peer, buf, start, end, now);
        } else pos = skipField(buf, pos, wireType);
      }
      if (recorder.deliveries > deliveriesBefore) recorder.pushFrames += 1;
    },
    send(peer, scenario, n) {
      const sentAt = nowUs();
      const requestId = ++peer.nextRequestId;
      peer.inflight.set(requestId, sentAt);
      const text = messageText(scenario, peer.index, n, sentAt);
      // A room's texts are numbered per room in the rooms scenario: the sender keeps the id unique.
      const clientMsgId = peer.room ? `${scenario}-${peer.index}-${n}` : `${scenario}-${n}`;
      peer.conn!.send(encodeClientFrame({ requestId, send: { room: roomOf(peer), clientMsgId, text } }, Encoding.PROTO));
    },
  };
}

// --- bare uWebSockets.js -------------------------------------------------------------------

export function uwsProtocol(recorder: Recorder): Protocol {
  const JOINED = 'joined';
  return {
    path: '/',
    headers: () => ({}),
    opened(peer) {
      if (peer.viewer) peer.conn!.send(peer.room ? `join:${peer.room.id}` : 'join');
      else peer.ready?.();
    },
    message(peer, buf, start, end, now) {
      if (peer.ready && end - start === JOINED.length && buf.toString('latin1', start, end) === JOINED) return peer.ready();
      if (peer.room) {
        // The sender's own text comes back first as its ack (the echo), then from the room: the
        // first one found in flight is the ack.
        if (!recorder.delivery(peer, buf, start, end, now)) {
          recorder.acknowledged(peer, peer.inflight.get(HEAD.n), now);
          peer.inflight.delete(HEAD.n);
        }
        return;
      }
      if (peer.viewer) {
        recorder.delivery(peer, buf, start, end, now);
        return;
      }
      recorder.acknowledged(peer, readHead(buf, start, end, recorder.scenario) ? HEAD.sentAtUs : undefined, now);
    },
    send(peer, scenario, n) {
      const sentAt = nowUs();
      const text = messageText(scenario, peer.index, n, sentAt);
      if (!peer.room) return peer.conn!.send(text);
      peer.inflight.set(n, sentAt);
      peer.conn!.send(`#${peer.room.id}|${text}`);
    },
  };
}

// --- Socket.IO -----------------------------------------------------------------------------

// Engine.IO packet types are the first character: 0 open, 2 ping, 3 pong, 4 message; a
// Socket.IO packet follows a 4: 0 connect, 2 event, 3 ack, then an optional ack id and JSON.
const EIO_OPEN = ascii('0');
const EIO_PING = ascii('2');
const EIO_MESSAGE = ascii('4');
const SIO_CONNECT = ascii('0');
const SIO_EVENT = ascii('2');
const SIO_ACK = ascii('3');
/** `42["m","` — a broadcast event named m; the text starts right after it. */
const EVENT_PREFIX = 8;
const JOIN_ACK_ID = 1;

export function socketIoProtocol(recorder: Recorder): Protocol {
  return {
    path: '/socket.io/?EIO=4&transport=websocket',
    headers: () => ({}),
    opened() {
      // The server speaks first (the Engine.IO open packet).
    },
    message(peer, buf, start, end, now) {
      const type = buf[start];
      if (type === EIO_MESSAGE) {
        const packet = buf[start + 1];
        // A sender's own text coming back from its room is not a delivery (its ack is the ack packet).
        if (packet === SIO_EVENT) {
          recorder.delivery(peer, buf, start + EVENT_PREFIX, end, now);
          return;
        }
        if (packet === SIO_ACK) {
          let id = 0;
          for (let i = start + 2; i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39; i++) id = id * 10 + buf[i]! - 0x30;
          if (peer.ready && id === JOIN_ACK_ID) return peer.ready();
          recorder.acknowledged(peer, peer.inflight.get(id), now);
          peer.inflight.delete(id);
          return;
        }
        if (packet === SIO_CONNECT) {
          if (peer.viewer) peer.conn!.send(peer.room ? `42${JOIN_ACK_ID}["join","${peer.room.id}"]` : `42${JOIN_ACK_ID}["join"]`);
          else peer.ready?.();
        }
      } else if (type === EIO_OPEN) peer.conn!.send('40');
      else if (type === EIO_PING) peer.conn!.send('3');
    },
    send(peer, scenario, n) {
      const sentAt = nowUs();
      const id = ++peer.nextRequestId;
      peer.inflight.set(id, sentAt);
      const text = messageText(scenario, peer.index, n, sentAt);
      peer.conn!.send(peer.room ? `42${id}["m","${text}","${peer.room.id}"]` : `42${id}["m","${text}"]`);
    },
  };
}
