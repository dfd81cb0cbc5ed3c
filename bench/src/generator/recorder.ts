// Everything one generator measures during a scenario. Deliveries are counted per viewer as
// well as in total, so "100% delivered" means every viewer got every message, not just that
// the totals add up.
import { Histogram } from '../histogram';
import { nowUs, sentAtUs } from '../payload';
import type { WsConn } from './ws-conn';

export interface Peer {
  conn?: WsConn;
  viewer: boolean;
  index: number;
  user: string;
  /** Deliveries of the current scenario. */
  received: number;
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
  closes: Record<string, number> = {};
  /** Why sends were refused, by error text. */
  ackErrors: Record<string, number> = {};

  start(scenario: number, rampUs: number): void {
    this.scenario = scenario;
    this.windowEndUs = Infinity;
    this.sent = this.acked = this.deliveries = this.deliveriesSteady = this.pushFrames = 0;
    this.steadyFromUs = nowUs() + rampUs;
    this.latency.reset();
    this.ack.reset();
    this.closes = {};
    this.ackErrors = {};
  }

  delivery(peer: Peer, buf: Uint8Array, start: number, end: number, now: number): void {
    const sentAt = sentAtUs(buf, start, end, this.scenario);
    if (sentAt < 0) return;
    peer.received += 1;
    this.deliveries += 1;
    if (now >= this.steadyFromUs && now <= this.windowEndUs) this.deliveriesSteady += 1;
    this.latency.record(now - sentAt);
  }

  acknowledged(sentAt: number | undefined, now: number): void {
    if (sentAt === undefined) return;
    this.acked += 1;
    this.ack.record(now - sentAt);
  }

  refused(reason: string): void {
    this.ackErrors[reason] = (this.ackErrors[reason] ?? 0) + 1;
  }

  closed(code: number): void {
    this.closes[code] = (this.closes[code] ?? 0) + 1;
  }
}
