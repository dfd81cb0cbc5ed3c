// Everything one generator measures during a scenario. Deliveries are counted per viewer as
// well as in total, so "100% delivered" means every viewer got every message, not just that
// the totals add up.
import { Histogram } from '../histogram';
import type { RoomRef } from '../ipc';
import { HEAD, nowUs, readHead } from '../payload';
import type { WsConn } from './ws-conn';

export interface Peer {
  conn?: WsConn;
  viewer: boolean;
  index: number;
  user: string;
  /** Rooms scenario only: the peer's room (otherwise the one room of the run). */
  room?: RoomRef;
  /** Deliveries of the current scenario. */
  received: number;
  /** Rooms scenario: texts this peer sent in the current scenario, and the highest room text number it received. */
  sent: number;
  lastN: number;
  nextRequestId: number;
  /** Request or ack id → send time (µs), for protocols whose ack carries only an id. */
  inflight: Map<number, number>;
  /** Set while connecting; called once the peer is joined (viewer) or may send (chatter). */
  ready?: () => void;
  fail?: (reason: string) => void;
}

export class Recorder {
  scenario = -1;
  windowEndUs = Infinity;
  sent = 0;
  acked = 0;
  deliveries = 0;
  /** Frames that carried deliveries, counted by protocols that can put several messages in one. */
  pushFrames = 0;
  /** Deliveries from steadyFromUs to the end of the window: the pipeline is full by then. */
  deliveriesSteady = 0;
  steadyFromUs = 0;
  readonly latency = new Histogram();
  readonly ack = new Histogram();
  /** Rooms scenario: the private rooms' (latency and ack above are then the live rooms'). */
  readonly privateLatency = new Histogram();
  readonly privateAck = new Histogram();
  outOfOrder = 0;
  closes: Record<string, number> = {};
  /** Why sends were refused, by error text. */
  ackErrors: Record<string, number> = {};

  start(scenario: number, rampUs: number): void {
    this.scenario = scenario;
    this.windowEndUs = Infinity;
    this.sent = this.acked = this.deliveries = this.deliveriesSteady = this.pushFrames = this.outOfOrder = 0;
    this.steadyFromUs = nowUs() + rampUs;
    this.latency.reset();
    this.ack.reset();
    this.privateLatency.reset();
    this.privateAck.reset();
    this.closes = {};
    this.ackErrors = {};
  }

  /**
   * Records a delivery. In the rooms scenario a peer's own text may come back to it: then it is
   * not a delivery, and false says so (HEAD holds its head, for protocols that ack by echo).
   */
  delivery(peer: Peer, buf: Uint8Array, start: number, end: number, now: number): boolean {
    if (!readHead(buf, start, end, this.scenario)) return true;
    if (peer.room) {
      if (HEAD.sender === peer.index) return false;
      // A room's texts are numbered in the order they were sent, seconds apart.
      if (HEAD.n <= peer.lastN) this.outOfOrder += 1;
      else peer.lastN = HEAD.n;
    }
    peer.received += 1;
    this.deliveries += 1;
    if (now >= this.steadyFromUs && now <= this.windowEndUs) this.deliveriesSteady += 1;
    (peer.room?.kind === 'private' ? this.privateLatency : this.latency).record(now - HEAD.sentAtUs);
    return true;
  }

  acknowledged(peer: Peer, sentAt: number | undefined, now: number): void {
    if (sentAt === undefined) return;
    this.acked += 1;
    (peer.room?.kind === 'private' ? this.privateAck : this.ack).record(now - sentAt);
  }

  refused(reason: string): void {
    this.ackErrors[reason] = (this.ackErrors[reason] ?? 0) + 1;
  }

  closed(code: number): void {
    this.closes[code] = (this.closes[code] ?? 0) + 1;
  }
}
