// A load generator process: opens the viewers and chatters the orchestrator asks for against
// one server under test, sends at the asked rate and measures what arrives. Commands and
// results go over the IPC channel (see ../ipc.ts); one command at a time.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import { exitWithParent, tellParent } from '../child';
import type { CollectResult, ConnectCommand, ConnectResult, GeneratorCommand, GeneratorReply, Progress, StartCommand, WindowResult } from '../ipc';
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
  return { viewer, index, user, received: 0, nextRequestId: 1, inflight: new Map() };
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

async function connect(cmd: ConnectCommand): Promise<ConnectResult> {
  const prefix = cmd.userPrefix ?? 'bench-';
  const viewerPeers = Array.from({ length: cmd.viewers }, (_, i) => peer(true, cmd.firstViewer + i, `${prefix}v${cmd.firstViewer + i}`));
  const chatterPeers = Array.from({ length: cmd.chatters }, (_, i) => peer(false, i, `${prefix}c${i}`));
  if (cmd.target === 'ours') {
    const users = [...viewerPeers, ...chatterPeers].map((p) => p.user);
    protocol = oursProtocol(recorder, cmd.roomId!, await signTokens(users, cmd.jwtSecret!));
  } else protocol = cmd.target === 'uws' ? uwsProtocol(recorder) : socketIoProtocol(recorder);

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
    errors: [...errors].slice(0, MAX_ERRORS_REPORTED).map(([reason, n]) => `${n}× ${reason}`),
  };
}

function start(cmd: StartCommand): Promise<WindowResult> {
  const proto = protocol!;
  recorder.start(cmd.scenario, cmd.rampSeconds * 1e6);
  viewersAtStart = viewers.filter((v) => !v.conn!.closed);
  for (const v of viewersAtStart) v.received = 0;
  const total = chatters.length ? Math.round(cmd.rate * cmd.seconds) : 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const sendDue = (elapsedMs: number) => {
    const due = Math.min(total, Math.floor((cmd.rate * elapsedMs) / 1000));
    while (recorder.sent < due) {
      const n = recorder.sent++;
      proto.send(chatters[n % chatters.length]!, cmd.scenario, n);
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

function collect(expectedPerViewer: number): CollectResult {
  return {
    ...progress(),
    ackErrors: recorder.ackErrors,
    pushFrames: recorder.pushFrames,
    viewersShort: viewersAtStart.reduce((n, v) => n + (v.received < expectedPerViewer ? 1 : 0), 0),
    latency: recorder.latency.toData(),
    ack: recorder.ack.toData(),
    closes: recorder.closes,
  };
}

async function handle(cmd: GeneratorCommand): Promise<GeneratorReply> {
  switch (cmd.type) {
    case 'connect':
      return { type: 'connected', ...(await connect(cmd)) };
    case 'start':
      return { type: 'window', ...(await start(cmd)) };
    case 'progress':
      return { type: 'progress', ...progress() };
    case 'collect':
      return { type: 'collected', ...collect(cmd.expectedPerViewer) };
  }
}

exitWithParent(() => {
  for (const p of [...viewers, ...chatters]) p.conn?.close();
});
process.on('message', (cmd: GeneratorCommand) => {
  handle(cmd).then(tellParent, (err: unknown) => tellParent({ type: 'failed', error: (err as Error).stack ?? String(err) }));
});
tellParent({ type: 'ready' } satisfies GeneratorReply);
