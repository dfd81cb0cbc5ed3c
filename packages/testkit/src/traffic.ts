// Chat traffic for a fault experiment: live rooms with senders and viewers and private rooms
// whose two members both send and read, every client on the SDK with every gateway URL. A
// sender sends one message at a time and retries a failed one with the same client_msg_id, as
// an app does, until it is acked; what was acked is the promise the system has to keep.
import { ErrorCode, LomiError, roomKey, type Room } from '@lomi/client';
import { ChaosClient, identityOf, type ViewerLog } from './chaos-client';
import type { Topology } from './topology';
import { waitFor } from './wait';

export interface AckRecord {
  room: string;
  seq: number;
  identity: string;
  /** performance.now() of the first ack. */
  at: number;
}

export interface TrafficOptions {
  liveRooms?: number;
  privateRooms?: number;
  viewersPerLiveRoom?: number;
  sendersPerLiveRoom?: number;
  /** The gateway every live-room viewer connects to first (default: spread over all). */
  viewerGateway?: number;
  /** Pause between a sender's ack and its next message. */
  intervalMs?: number;
  /** How long after stop() a sender keeps retrying the message in hand. */
  drainMs?: number;
}

/** Refusals a retry cannot change; anything else (UNAVAILABLE, timeouts, a closed socket) is retried. */
const FINAL = new Set<ErrorCode>([
  ErrorCode.ERROR_CODE_BAD_REQUEST,
  ErrorCode.ERROR_CODE_FORBIDDEN,
  ErrorCode.ERROR_CODE_NOT_FOUND,
  ErrorCode.ERROR_CODE_NOT_JOINED,
  ErrorCode.ERROR_CODE_ROOM_CLOSED,
  ErrorCode.ERROR_CODE_TOO_LARGE,
]);
const RETRY_MS = 100;
const CONNECT_CONCURRENCY = 50;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Sender {
  readonly acks: AckRecord[] = [];
  /** client_msg_ids given up without an ack (still in hand when the drain ended, or refused). */
  readonly unacked: string[] = [];
  /** Failed attempts by error (digits blanked), e.g. "ERROR_CODE_UNAVAILABLE" or "request N timed out". */
  readonly failures = new Map<string, number>();

  constructor(
    readonly client: ChaosClient,
    readonly room: Room,
  ) {}

  async run(traffic: Traffic, intervalMs: number): Promise<void> {
    for (let n = 1; traffic.sending; n++) {
      await this.sendOne(traffic, `${this.client.name}-${n}`);
      if (traffic.sending) await delay(intervalMs);
    }
  }

  private async sendOne(traffic: Traffic, clientMsgId: string): Promise<void> {
    for (;;) {
      try {
        const ack = await this.client.client.send(this.room, `message ${clientMsgId}`, clientMsgId);
        const seq = Number(ack.seq);
        this.acks.push({ room: roomKey(this.room), seq, identity: identityOf(this.client.name, clientMsgId), at: performance.now() });
        return;
      } catch (err) {
        const why = err instanceof LomiError ? (ErrorCode[err.code] ?? String(err.code)) : (err as Error).message.replace(/\d+/g, 'N');
        this.failures.set(why, (this.failures.get(why) ?? 0) + 1);
        if ((err instanceof LomiError && FINAL.has(err.code)) || performance.now() > traffic.giveUpAt) {
          this.unacked.push(clientMsgId);
          return;
        }
        await delay(RETRY_MS);
      }
    }
  }
}

export class Traffic {
  sending = true;
  /** When senders stop retrying (performance.now()); set by stop(). */
  giveUpAt = Infinity;
  readonly rooms: Room[] = [];
  readonly clients: ChaosClient[] = [];
  readonly senders: Sender[] = [];
  private running: Promise<void>[] = [];

  constructor(
    readonly topology: Topology,
    readonly options: Required<Omit<TrafficOptions, 'viewerGateway'>> & Pick<TrafficOptions, 'viewerGateway'>,
  ) {}

  get acks(): AckRecord[] {
    return this.senders.flatMap((s) => s.acks);
  }

  /** Every joined room of every client. */
  get viewers(): ViewerLog[] {
    return this.clients.flatMap((c) => [...c.logs.values()]);
  }

  /** Resolves once `more` further messages have been acked. */
  async waitForAcks(more: number, timeoutMs = 30_000): Promise<void> {
    const target = this.acks.length + more;
    await waitFor(() => this.acks.length >= target, `${target} acked messages (${this.summary()})`, timeoutMs);
  }

  /** Stops sending; the messages in hand are retried for up to drainMs more. */
  async stop(): Promise<void> {
    this.sending = false;
    this.giveUpAt = performance.now() + this.options.drainMs;
    await Promise.all(this.running);
  }

  /** Closes every client. */
  async close(): Promise<void> {
    this.sending = false;
    this.giveUpAt = 0;
    await Promise.all(this.running);
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
  }

  /** Acks and failed attempts so far, for figures and failure messages. */
  summary(): string {
    const failures = new Map<string, number>();
    for (const s of this.senders) for (const [why, n] of s.failures) failures.set(why, (failures.get(why) ?? 0) + n);
    const unacked = this.senders.reduce((n, s) => n + s.unacked.length, 0);
    return `${this.acks.length} acked, ${unacked} given up, failed attempts: ${JSON.stringify(Object.fromEntries(failures))}`;
  }

  /** Connects (and joins) in bounded parallel batches, so a thousand viewers do not stampede the test process. */
  async connect(specs: { user: string; gateway: number; join?: Room }[]): Promise<ChaosClient[]> {
    const out: ChaosClient[] = [];
    for (let i = 0; i < specs.length; i += CONNECT_CONCURRENCY) {
      const batch = await Promise.all(
        specs.slice(i, i + CONNECT_CONCURRENCY).map(async (spec) => {
          const client = await ChaosClient.connect(this.topology, spec.user, spec.gateway);
          this.clients.push(client);
          if (spec.join) await client.join(spec.join);
          return client;
        }),
      );
      out.push(...batch);
    }
    return out;
  }

  start(sender: ChaosClient, room: Room): void {
    const s = new Sender(sender, room);
    this.senders.push(s);
    this.running.push(s.run(this, this.options.intervalMs));
  }
}

/** Creates the rooms, connects and joins every client, and starts the senders. */
export async function startTraffic(topology: Topology, options: TrafficOptions = {}): Promise<Traffic> {
  const traffic = new Traffic(topology, {
    liveRooms: 3,
    privateRooms: 2,
    viewersPerLiveRoom: 3,
    sendersPerLiveRoom: 2,
    intervalMs: 100,
    drainMs: 15_000,
    ...options,
  });
  const o = traffic.options;
  const gateways = topology.gateways.length;
  const user = (name: string) => topology.user(name);
  try {
    for (let r = 0; r < o.liveRooms; r++) traffic.rooms.push(await topology.createLiveRoom(user(`host${r}`)));
    for (let r = 0; r < o.privateRooms; r++) traffic.rooms.push(await topology.createPrivateRoom(user(`a${r}`), user(`b${r}`)));
    const live = traffic.rooms.slice(0, o.liveRooms);
    await traffic.connect(
      live.flatMap((room, r) =>
        Array.from({ length: o.viewersPerLiveRoom }, (_, v) => ({ user: user(`viewer${r}-${v}`), gateway: o.viewerGateway ?? v % gateways, join: room })),
      ),
    );
    const members = await traffic.connect(
      traffic.rooms.slice(o.liveRooms).flatMap((room, r) => [
        { user: user(`a${r}`), gateway: r % gateways, join: room },
        { user: user(`b${r}`), gateway: (r + 1) % gateways, join: room },
      ]),
    );
    const senders = await traffic.connect(
      live.flatMap((_, r) => Array.from({ length: o.sendersPerLiveRoom }, (_, s) => ({ user: user(`sender${r}-${s}`), gateway: (r + s) % gateways, join: live[r] }))),
    );
    senders.forEach((client, i) => traffic.start(client, live[Math.floor(i / o.sendersPerLiveRoom)]!));
    members.forEach((client, i) => traffic.start(client, traffic.rooms[o.liveRooms + Math.floor(i / 2)]!));
  } catch (err) {
    await traffic.close();
    throw err;
  }
  return traffic;
}
