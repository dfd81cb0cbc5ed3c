// Messages between the orchestrator and a generator process (over the Node IPC channel).
import type { HistogramData } from './histogram';

export type TargetName = 'ours' | 'uws' | 'socketio';
/** When ours acks a send (its ACK_DURABILITY): once in Redis, or once in Postgres. */
export type AckDurability = 'redis' | 'replica' | 'postgres';
/** Ours as deployed (services in their own processes, on NATS, Redis and Postgres) or embedded (`pnpm start` with no server URLs). */
export type OursSystem = 'distributed' | 'embedded';

export interface ConnectCommand {
  type: 'connect';
  target: TargetName;
  ports: number[];
  viewers: number;
  /** Index of this generator's first viewer, so user ids and gateway choice are global. */
  firstViewer: number;
  chatters: number;
  concurrency: number;
  /** Ours only. */
  roomId?: string;
  jwtSecret?: string;
  userPrefix?: string;
}

/** A room of the rooms scenario: a live room, or a private conversation of two members. */
export interface RoomRef {
  kind: 'live' | 'private';
  id: string;
}

/** One socket of the rooms scenario: its user, its room, whether its deliveries are measured and whether it sends. */
export interface PeerSpec {
  /** Unique over the run's generators: it names the sender in each text. */
  index: number;
  /** Which of the servers (ports) it connects to. */
  server: number;
  user: string;
  room: RoomRef;
  receives: boolean;
  sends: boolean;
}

/** The rooms scenario's connect: every peer spelled out, each joining its own room. */
export interface ConnectRoomsCommand {
  type: 'connect-rooms';
  target: TargetName;
  ports: number[];
  peers: PeerSpec[];
  concurrency: number;
  /** Ours only. */
  jwtSecret?: string;
}

export interface StartCommand {
  type: 'start';
  scenario: number;
  rate: number;
  seconds: number;
  /** Start of the window left out of deliveries/s, while the first messages are still in flight. */
  rampSeconds: number;
  /**
   * Rooms scenario: msg/s sent into each live room (spread over its senders) and by each
   * private-room member; `rate` is unused then. Each room's texts are numbered in order.
   */
  roomRates?: { live: number; private: number };
}

export type GeneratorCommand =
  | ConnectCommand
  | ConnectRoomsCommand
  | StartCommand
  | { type: 'progress' }
  /** Final figures of the scenario; a viewer is "short" if it received fewer than expectedPerViewer. */
  | {
      type: 'collect';
      expectedPerViewer: number;
      /** Rooms scenario: texts sent into each room; a receiver is short if it got fewer (less its own). */
      expectedByRoom?: Record<string, number>;
    };

export interface ConnectResult {
  joined: number;
  chatters: number;
  failed: number;
  /** From the first connect to the last join reply. */
  seconds: number;
  errors: string[];
  /** Rooms scenario: peers joined whose deliveries are measured, by room id. */
  receiversByRoom?: Record<string, number>;
}

export interface Progress {
  sent: number;
  acked: number;
  deliveries: number;
  viewersOpen: number;
}

export interface WindowResult extends Progress {
  /** Generator CPU during the send window, in cores (1 = one core fully busy). */
  cpu: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  windowSeconds: number;
  /** Deliveries in the steady part of the window (after the ramp) and its length. */
  deliveriesSteady: number;
  steadySeconds: number;
  /** Rooms scenario: texts sent into each room, and how many of them by senders that also receive (who do not count their own). */
  sentByRoom?: Record<string, number>;
  sentByReceivers?: number;
}

export interface CollectResult extends Progress {
  /** Sends refused with an error reply, by error text. */
  ackErrors: Record<string, number>;
  /** Ours only: frames that carried room messages (a batch frame carries several). */
  pushFrames: number;
  /** Viewers open at the start that received fewer messages than were sent. */
  viewersShort: number;
  latency: HistogramData;
  ack: HistogramData;
  /** Rooms scenario: the private rooms' figures (`latency` and `ack` are then the live rooms'). */
  privateLatency: HistogramData;
  privateAck: HistogramData;
  /** Rooms scenario: deliveries of a room's text numbered below one the receiver already had. */
  outOfOrder: number;
  /** Close codes seen on viewer sockets since connect, e.g. {"4001": 12}. */
  closes: Record<string, number>;
}

export type GeneratorReply =
  | { type: 'ready' }
  | ({ type: 'connected' } & ConnectResult)
  | ({ type: 'window' } & WindowResult)
  | ({ type: 'progress' } & Progress)
  | ({ type: 'collected' } & CollectResult)
  | { type: 'failed'; error: string };
