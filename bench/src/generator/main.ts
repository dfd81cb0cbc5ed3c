// A load generator process: opens the viewers and chatters the orchestrator asks for against
// one server under test, sends at the asked rate and measures what arrives. Commands and
// results go over the IPC channel (see ../ipc.ts); one command at a time.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import { exitWithParent, tellParent } from '../child';
import type {
  CollectResult,
  ConnectCommand,
  ConnectResult,
  ConnectRoomsCommand,
  GeneratorCommand,
  GeneratorReply,
  PeerSpec,
  Progress,
  StartCommand,
  TargetName,
  WindowResult,
} from '../ipc';
import { nowUs } from '../payload';
import { oursProtocol, socketIoProtocol, uwsProtocol, type Protocol } from './protocols';
import { Recorder, type Peer } from './recorder';
import { WsConn } from './ws-conn';

const CONNECT_TIMEOUT_MS = 20_000;
const SEND_TICK_MS = 1;
const MAX_ERRORS_REPORTED = 5;

const recorder = new Recorder();
let protocol: Protocol | undefined;
let viewers: Peer[] = [];
const chatters: Peer[] = [];
/** Viewers open when the current scenario started: the ones expected to receive everything. */
let viewersAtStart: Peer[] = [];

function peer(viewer: boolean, index: number, user: string): Peer {
  return { viewer, index, user, received: 0, sent: 0, lastN: -1, nextRequestId: 1, inflight: new Map() };
}

function connectPeer(p: Peer, port: number, proto: Protocol): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      p.ready = p.fail = undefined;
    };
    const fail = (reason: string) => {
      settle();
      p.conn?.close();
      reject(new Error(reason));
    };
    const timer = setTimeout(() => fail('no join reply in time'), CONNECT_TIMEOUT_MS);
    p.fail = fail;
    p.ready = () => {
      settle();
      resolve();
    };
    p.conn = new WsConn(port, proto.path, proto.headers(p), {
      onOpen: () => proto.opened(p),
      onMessage: (buf, start, end, now) => proto.message(p, buf, start, end, now),
      onClose: (code, reason) => (p.fail ? p.fail(`closed ${code} ${reason}`) : recorder.closed(code)),
    });
  });
}

/** Connects peers with at most `concurrency` handshakes in flight; returns the ones that joined. */
async function connectAll(peers: Peer[], port: (p: Peer) => number, proto: Protocol, concurrency: number, errors: Map<string, number>) {
  const joined: Peer[] = [];
  let next = 0;
  const lane = async () => {
    while (next < peers.length) {
      const p = peers[next++]!;
      try {
        await connectPeer(p, port(p), proto);
        joined.push(p);
      } catch (err) {
        const reason = (err as Error).message.slice(0, 160);
        errors.set(reason, (errors.get(reason) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, peers.length) }, lane));
  return joined;
}

async function signTokens(users: string[], secret: string): Promise<Map<string, string>> {
  const key = Buffer.from(secret, 'utf8');
  const tokens = new Map<string, string>();
  for (const user of users) {
    tokens.set(user, await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user).setIssuedAt().setExpirationTime('2h').sign(key));
  }
  return tokens;
}

async function makeProtocol(target: TargetName, peers: Peer[], roomId: string | undefined, jwtSecret: string | undefined): Promise<Protocol> {
  if (target === 'ours')
    return oursProtocol(
      recorder,
      roomId,
      await signTokens(
        peers.map((p) => p.user),
        jwtSecret!,
      ),
    );
  return target === 'uws' ? uwsProtocol(recorder) : socketIoProtocol(recorder);
}

const reasons = (errors: Map<string, number>) => [...errors].slice(0, MAX_ERRORS_REPORTED).map(([reason, n]) => `${n}× ${reason}`);

async function connect(cmd: ConnectCommand): Promise<ConnectResult> {
  const prefix = cmd.userPrefix ?? 'bench-';
  const viewerPeers = Array.from({ length: cmd.viewers }, (_, i) => peer(true, cmd.firstViewer + i, `${prefix}v${cmd.firstViewer + i}`));
  const chatterPeers = Array.from({ length: cmd.chatters }, (_, i) => peer(false, i, `${prefix}c${i}`));
  protocol = await makeProtocol(cmd.target, [...viewerPeers, ...chatterPeers], cmd.roomId, cmd.jwtSecret);

  // Viewers and chatters are spread over the servers by their global index.
  const port = (p: Peer) => cmd.ports[p.index % cmd.ports.length]!;
  const errors = new Map<string, number>();
  const started = performance.now();
  viewers = await connectAll(viewerPeers, port, protocol, cmd.concurrency, errors);
  const seconds = (performance.now() - started) / 1000;
  chatters.push(...(await connectAll(chatterPeers, port, protocol, cmd.concurrency, errors)));
  return {
    joined: viewers.length,
    chatters: chatters.length,
    failed: viewerPeers.length + chatterPeers.length - viewers.length - chatters.length,
    seconds,
    errors: reasons(errors),
  };
}

/**
 * The rooms scenario: every peer joins its own room; those that receive are the viewers, those
 * that send the chatters (a private room's members are both).
 */
async function connectRooms(cmd: ConnectRoomsCommand): Promise<ConnectResult> {
  const peers: Peer[] = cmd.peers.map((spec: PeerSpec) => Object.assign(peer(spec.receives, spec.index, spec.user), { room: spec.room }));
  const server = new Map(peers.map((p, i) => [p, cmd.peers[i]!.server]));
  const senders = new Set(peers.filter((_, i) => cmd.peers[i]!.sends));
  protocol = await makeProtocol(cmd.target, peers, undefined, cmd.jwtSecret);
  const errors = new Map<string, number>();
  const started = performance.now();
  const joined = await connectAll(peers, (p) => cmd.ports[server.get(p)!]!, protocol, cmd.concurrency, errors);
  const seconds = (performance.now() - started) / 1000;
  viewers = joined.filter((p) => p.viewer);
  chatters.push(...joined.filter((p) => senders.has(p)));
  const receiversByRoom: Record<string, number> = {};
  for (const v of viewers) receiversByRoom[v.room!.id] = (receiversByRoom[v.room!.id] ?? 0) + 1;
  return { joined: viewers.length, chatters: chatters.length, failed: peers.length - joined.length, seconds, errors: reasons(errors), receiversByRoom };
}

/**
 * Who sends at what rate: one lane of chatters taking turns at `rate` msg/s in all, or in the
 * rooms scenario one lane per kind of room, each text numbered within its room.
 */
interface Lane {
  peers: Peer[];
  rate: number;
}

function lanes(cmd: StartCommand): Lane[] {
  if (!cmd.roomRates) return [{ peers: chatters, rate: cmd.rate }];
  const live = chatters.filter((p) => p.room!.kind === 'live');
  const liveRooms = new Set(live.map((p) => p.room!.id)).size;
  const privateMembers = chatters.filter((p) => p.room!.kind === 'private');
  // Interleaved by room, so that each room's senders take turns and its rate is even.
  return [
    { peers: interleaveByRoom(live), rate: cmd.roomRates.live * liveRooms },
    { peers: privateMembers, rate: cmd.roomRates.private * privateMembers.length },
  ];
}

/** Every room's first sender, then every room's second, and so on. */
function interleaveByRoom(sorted: Peer[]): Peer[] {
  const byRoom = new Map<string, Peer[]>();
  for (const p of sorted) {
    const list = byRoom.get(p.room!.id);
    if (list) list.push(p);
    else byRoom.set(p.room!.id, [p]);
  }
  const out: Peer[] = [];
  for (let round = 0; out.length < sorted.length; round++) for (const list of byRoom.values()) if (list[round]) out.push(list[round]!);
  return out;
}

function start(cmd: StartCommand): Promise<WindowResult> {
  const proto = protocol!;
  recorder.start(cmd.scenario, cmd.rampSeconds * 1e6);
  viewersAtStart = viewers.filter((v) => !v.conn!.closed);
  for (const p of [...viewers, ...chatters]) {
    p.received = p.sent = 0;
    p.lastN = -1;
  }
  const schedule = lanes(cmd).map((lane) => ({ ...lane, total: lane.peers.length ? Math.round(lane.rate * cmd.seconds) : 0, sent: 0 }));
  const sentByRoom = new Map<string, number>();
  let sentByReceivers = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const sendDue = (elapsedMs: number) => {
    for (const lane of schedule) {
      const due = Math.min(lane.total, Math.floor((lane.rate * elapsedMs) / 1000));
      while (lane.sent < due) {
        const p = lane.peers[lane.sent++ % lane.peers.length]!;
        recorder.sent++;
        p.sent++;
        if (!p.room) {
          proto.send(p, cmd.scenario, recorder.sent - 1);
          continue;
        }
        const n = sentByRoom.get(p.room.id) ?? 0;
        sentByRoom.set(p.room.id, n + 1);
        if (p.viewer) sentByReceivers++;
        proto.send(p, cmd.scenario, n);
      }
    }
  };
  return new Promise((resolve) => {
    // Sends whatever is due on each tick, so a late timer catches up instead of lowering the rate.
    const timer = setInterval(() => {
      const elapsedMs = performance.now() - started;
      sendDue(elapsedMs);
      if (elapsedMs < cmd.seconds * 1000) return;
      clearInterval(timer);
      sendDue(Infinity);
      recorder.windowEndUs = nowUs();
      const wallUs = (performance.now() - started) * 1000;
      const cpu = process.cpuUsage(cpuBefore);
      loopDelay.disable();
      resolve({
        ...progress(),
        cpu: (cpu.user + cpu.system) / wallUs,
        loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
        loopDelayMaxMs: loopDelay.max / 1e6,
        windowSeconds: wallUs / 1e6,
        deliveriesSteady: recorder.deliveriesSteady,
        steadySeconds: (recorder.windowEndUs - recorder.steadyFromUs) / 1e6,
        ...(cmd.roomRates ? { sentByRoom: Object.fromEntries(sentByRoom), sentByReceivers } : {}),
      });
    }, SEND_TICK_MS);
  });
}

function progress(): Progress {
  return {
    sent: recorder.sent,
    acked: recorder.acked,
    deliveries: recorder.deliveries,
    viewersOpen: viewers.reduce((n, v) => n + (v.conn!.closed ? 0 : 1), 0),
  };
}

function collect(expectedPerViewer: number, expectedByRoom: Record<string, number> | undefined): CollectResult {
  // A receiver that sent into its room does not receive its own texts.
  const expected = (v: Peer) => (expectedByRoom ? (expectedByRoom[v.room!.id] ?? 0) - v.sent : expectedPerViewer);
  return {
    ...progress(),
    ackErrors: recorder.ackErrors,
    pushFrames: recorder.pushFrames,
    viewersShort: viewersAtStart.reduce((n, v) => n + (v.received < expected(v) ? 1 : 0), 0),
    latency: recorder.latency.toData(),
    ack: recorder.ack.toData(),
    privateLatency: recorder.privateLatency.toData(),
    privateAck: recorder.privateAck.toData(),
    outOfOrder: recorder.outOfOrder,
    closes: recorder.closes,
  };
}

async function handle(cmd: GeneratorCommand): Promise<GeneratorReply> {
  switch (cmd.type) {
    case 'connect':
      return { type: 'connected', ...(await connect(cmd)) };
    case 'connect-rooms':
      return { type: 'connected', ...(await connectRooms(cmd)) };
    case 'start':
      return { type: 'window', ...(await start(cmd)) };
    case 'progress':
      return { type: 'progress', ...progress() };
    case 'collect':
      return { type: 'collected', ...collect(cmd.expectedPerViewer, cmd.expectedByRoom) };
  }
}

exitWithParent(() => {
  for (const p of [...viewers, ...chatters]) p.conn?.close();
});
process.on('message', (cmd: GeneratorCommand) => {
  handle(cmd).then(tellParent, (err: unknown) => tellParent({ type: 'failed', error: (err as Error).stack ?? String(err) }));
});
tellParent({ type: 'ready' } satisfies GeneratorReply);
