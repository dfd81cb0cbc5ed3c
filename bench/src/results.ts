// The shape of one run's results: written raw to JSON and rendered by report.ts.
import type { HopCost } from './hop-cost';
import type { AckDurability, OursSystem, TargetName } from './ipc';
import type { BenchOptions, Engines, RoomsLayout, ScenarioName } from './options';
import type { ServerTimings } from './server-timings';

export interface LatencyMs {
  p50?: number;
  p90?: number;
  p99?: number;
  max?: number;
}

export interface ProcessMemory {
  name: string;
  /** Sockets (viewers and chatters) this process holds. */
  connections: number;
  idleKb: number;
  connectedKb: number;
  loadKb?: number;
  perIdleConnectionKb: number;
  perLoadedConnectionKb?: number;
  /** Ours only (from the gateway's /metrics): V8 heap in use per connection, part of the RSS figure. */
  heapPerIdleConnectionKb?: number;
}

export interface ConnectFigures {
  /** From the first viewer connect to the last viewer join reply. */
  seconds: number;
  joined: number;
  failed: number;
  perSecond: number;
  errors: string[];
  /** CPU of each process (and the shared servers) while connecting, in cores. */
  cpu: Record<string, number>;
}

/** The chatters' sends before the viewers connected (see --warmup): not part of any scenario. */
export interface WarmUpFigures {
  rate: number;
  seconds: number;
  sent: number;
  acked: number;
  ackMs: LatencyMs;
}

/**
 * The fan-out warm-up: this many deliveries in all, at the highest rate the viewer count allows
 * in `seconds`, awaited up to `drainSeconds`. 500k is a second at 500 msg/s for 1k viewers, and
 * what Socket.IO, the slowest system here, delivers in about 5 s.
 */
export const FAN_OUT_WARM_UP = { deliveries: 500_000, seconds: 1, drainSeconds: 10 } as const;

/** The chatters' sends once the viewers joined, before the first scenario: not part of any either. */
export interface FanOutWarmUpFigures {
  rate: number;
  seconds: number;
  sent: number;
  /** Of sent × viewers. */
  fraction: number;
  /** From the first send until all was delivered, or the wait for it ended. */
  tookSeconds: number;
}

/** What a send window sent, what was acked, and what reached the receivers; the same for every scenario. */
export interface DeliveryTotals {
  windowSeconds: number;
  sent: number;
  acked: number;
  /** Sends refused with an error reply, by error text. */
  ackErrors: Record<string, number>;
  /** Deliveries due: each text × the receivers of its room that should get it. */
  expected: number;
  delivered: number;
  /** delivered / expected, after the drain. */
  fraction: number;
}

export interface ScenarioResult extends DeliveryTotals {
  target: TargetName;
  viewers: number;
  rate: number;
  chatters: number;
  /** Room messages per WebSocket frame: above 1 when the server batches (ours only; the baselines send one each). */
  messagesPerFrame?: number;
  /** Ours: when it acked a send (ACK_DURABILITY). */
  durability?: AckDurability;
  /** Ours: terms in its deployment word list (0 = none). */
  wordListTerms?: number;
  /** Ours: distributed or embedded. */
  system?: OursSystem;
  /** Ours: on one NATS server and one Redis, or on clustered ones (--scenario cluster). */
  engines?: Engines;
  /** Ours on engines of its own: their CPU during the window, in cores (every NATS node, every Redis master and replica). */
  engineCpu?: { nats: number; redis: number };
  /** Viewers that missed at least one message. */
  viewersShort: number;
  /** Close codes of viewer sockets during the scenario. */
  viewerCloses: Record<string, number>;
  offeredPerSecond: number;
  /**
   * Deliveries received between the end of the ramp (first second, or a quarter of a short
   * window) and the end of the send window, per second: the offered rate when the server keeps
   * up, its capacity when it falls behind.
   */
  deliveriesPerSecond: number;
  latencyMs: LatencyMs;
  ackMs: LatencyMs;
  /** Ours: a send's time inside the gateway and the message worker, and a delivery's age when a gateway wrote it, from their own histograms. */
  serverTimings?: ServerTimings;
  /** Every delivery and ack arrived before the drain deadline. */
  drained: boolean;
  /** The system was restarted (and reconnected) before this scenario, because the previous one did not drain. */
  afterRestart: boolean;
  connect: ConnectFigures;
  warmUp?: WarmUpFigures;
  fanOutWarmUp?: FanOutWarmUpFigures;
  memory: ProcessMemory[];
  /** CPU of each process during the send window, in cores. */
  cpu: Record<string, number>;
  /** Shared servers (NATS, Redis, Postgres), used by anyone on this machine. */
  infraCpu: Record<string, number>;
  /** Busy fraction of each core during the send window. */
  cores: number[];
  /** CPU used by processes outside this run (other agents' tests…), in cores: the noise. */
  otherCpu: number;
  generator: { cpu: number; loopDelayP99Ms: number; loopDelayMaxMs: number; saturated: boolean; processes: number };
  limitedBy: string;
}

/** The scenario the comparisons with bare uWS are about. */
export const HEADLINE = { viewers: 10_000, rate: 100 } as const;

/** One system under test in the rooms scenario: every room at once, one send window. */
export interface RoomsResult extends DeliveryTotals {
  target: TargetName;
  layout: RoomsLayout;
  /** Ours: creating the rooms through the service API. */
  roomsCreatedSeconds?: number;
  /** Sockets the generators held: viewers, chatters and private members. */
  sockets: number;
  connect: { seconds: number; receivers: number; senders: number; failed: number; errors: string[] };
  /** Receivers that missed at least one text of their room. */
  viewersShort: number;
  /** Deliveries of a room's text numbered below one the receiver already had. */
  outOfOrder: number;
  viewerCloses: Record<string, number>;
  sendsPerSecond: number;
  offeredPerSecond: number;
  deliveriesPerSecond: number;
  live: { latencyMs: LatencyMs; ackMs: LatencyMs };
  private: { latencyMs: LatencyMs; ackMs: LatencyMs };
  /** Ours: a send's time inside the gateway and the message worker, and a delivery's age when a gateway wrote it (live and private together). */
  serverTimings?: ServerTimings;
  /** CPU of each process of the system and of the generators during the window, in cores. */
  cpu: Record<string, number>;
  infraCpu: Record<string, number>;
  /** CPU µs per delivered message, by process (cpu ÷ deliveries/s), the shared servers' too. */
  cpuUsPerDelivery: Record<string, number>;
  cores: number[];
  otherCpu: number;
  generator: { cpu: number; loopDelayP99Ms: number; processes: number };
  /** Resident memory of each server process before the sockets connected and with them. */
  memory: { name: string; idleKb: number; connectedKb: number }[];
  drained: boolean;
}

/** A slot step is unsustained when its acks fall behind: refused, missing after the drain, or a p99 ackGrowth times the first step's and above ackP99Ms. */
export const SLOT_DEGRADED = { ackGrowth: 4, ackP99Ms: 50 } as const;

/** One step of the slot scenario: one room at one send rate. */
export interface SlotStep {
  rate: number;
  result: ScenarioResult;
  /** What made the step unsustained, if anything. */
  degraded?: string;
}

export interface SlotResult {
  steps: SlotStep[];
  /** The highest rate sustained, if any was. */
  maxSustained?: number;
}

export interface RunResult {
  scenario?: ScenarioName;
  startedAt: string;
  command: string;
  machine: { cpus: number; node: string; loadavgAtStart: string; hopCost?: HopCost };
  pinning: string;
  options: BenchOptions;
  scenarios: ScenarioResult[];
  /**
   * The headline scenario again, ours and bare uWS alternately (uWS first), after the main run:
   * a comparison made once follows the machine's phase as much as the systems (--repeats).
   */
  repeats: ScenarioResult[];
  /** Ours again in each further --durability mode, scenario by scenario, after the main run. */
  durabilityRuns: ScenarioResult[];
  /** Ours again with each further --word-list size, scenario by scenario, after the main run. */
  wordListRuns: ScenarioResult[];
  /** Ours again as the embedded system (--embedded), scenario by scenario, after the main run. */
  embeddedRuns?: ScenarioResult[];
  /** --scenario rooms: each target's run. */
  rooms?: RoomsResult[];
  /** --scenario cluster: ours on clustered engines, beside `scenarios` (the same on single ones). */
  clusterRuns?: ScenarioResult[];
  /** --scenario slot: the steps up to the one that degraded. */
  slot?: SlotResult;
  skipped: string[];
  errors: string[];
  durationSeconds: number;
}
