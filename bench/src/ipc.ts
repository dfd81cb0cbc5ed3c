// Messages between the orchestrator and a generator process (over the Node IPC channel).
import type { HistogramData } from './histogram';

export type TargetName = 'ours' | 'uws' | 'socketio';
/** When ours acks a send (its ACK_DURABILITY): once in Redis, or once in Postgres. */
export type AckDurability = 'redis' | 'postgres';

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

export interface StartCommand {
  type: 'start';
  scenario: number;
  rate: number;
  seconds: number;
  /** Start of the window left out of deliveries/s, while the first messages are still in flight. */
  rampSeconds: number;
}

export type GeneratorCommand =
  | ConnectCommand
  | StartCommand
  | { type: 'progress' }
  /** Final figures of the scenario; a viewer is "short" if it received fewer than expectedPerViewer. */
  | { type: 'collect'; expectedPerViewer: number };

export interface ConnectResult {
  joined: number;
  chatters: number;
  failed: number;
  /** From the first connect to the last join reply. */
  seconds: number;
  errors: string[];
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
