// Command-line flags, each also settable as an environment variable BENCH_<FLAG> (e.g.
// BENCH_VIEWERS=1000,5000). Flags win over the environment.
import { parseArgs } from 'node:util';
import type { AckDurability, OursSystem, TargetName } from './ipc';

/** What a run measures: one live room at several sizes (the headline), many rooms at once, the headline on clustered engines, or one room's append ceiling. */
export type ScenarioName = 'live' | 'rooms' | 'cluster' | 'slot';
/**
 * Ours on the machine's shared NATS and Redis, or on engines started for the system and stopped
 * with it — one NATS server and one Redis, or a 3-node NATS cluster and a 3-master (+3 replica)
 * Redis Cluster — whose CPU is then ours alone (other agents' tests run redis-servers too).
 */
export type Engines = 'shared' | 'single' | 'cluster';

export interface RoomsLayout {
  liveRooms: number;
  viewersPerRoom: number;
  /** Chatters (senders that are not viewers) per live room. */
  chattersPerRoom: number;
  /** Msg/s sent into each live room. */
  roomRate: number;
  /** Private conversations, both members connected and joined. */
  conversations: number;
  /** Seconds between two sends of one member. */
  conversationInterval: number;
}

export interface BenchOptions {
  scenario: ScenarioName;
  rooms: RoomsLayout;
  engines: Engines;
  quick: boolean;
  viewers: number[];
  rates: number[];
  chatters: number;
  /** Send window of each scenario. */
  seconds: number;
  /** Longest wait after the window for the last deliveries and acks. */
  drain: number;
  /** Seconds the chatters send alone, unmeasured, before the viewers connect (0: none). */
  warmup: number;
  /** Extra ours/uWS pairs of the headline scenario after the main run, at most (0: none). */
  repeats: number;
  /** Run time in seconds within which each repeat pair must fit, judged by the one before (the first by an estimate). */
  budget: number;
  targets: TargetName[];
  /** Modes ours is measured in (ACK_DURABILITY); the first is the main run's, the others run ours again. */
  durability: AckDurability[];
  /** Sizes of ours's deployment word list (WORD_FILTER_FILE, 0 = none); the first is the main run's, the others run ours again. */
  wordList: number[];
  /** After the main run, ours again as the embedded system: every service in one process, no servers. */
  embedded: boolean;
  /** How ours runs in this scenario: its services as separate processes on the servers, or all in one process. */
  system: OursSystem;
  gateways: number;
  workers: number;
  concurrency: number;
  /** Viewers per generator process: each holds one file descriptor per socket (limit 20,000). */
  viewersPerGenerator: number;
  pin: boolean;
  /** Servers, workers and load generators write V8 CPU profiles into the run's log folder. */
  profile: boolean;
  /** Writes bench/RESULTS.md (the committed table) — off for quick smoke runs. */
  publish: boolean;
  out: string;
}

const USAGE = `pnpm bench [-- flags]
  --scenario live         live: one live room, every --viewers × --rates (the headline)
                          rooms: many rooms at once (the flags below), every --targets
                          cluster: ours at --viewers × --rates (default 10000 × 100) on one
                          NATS and one Redis, then on a 3-node NATS cluster and a 3+3 Redis
                          Cluster started for the run, --repeats more times in turns (cluster
                          first in the first repeat): the ratio is the median of the pairs'
                          slot: one live room, no fan-out to speak of (one viewer), the send
                          rate stepping up through --rates (default 250,…,8000) until the ack
                          p99 degrades: the appends/s one room (one Redis slot) sustains
                          A scenario other than live merges its section into bench/RESULTS.md.
  --live-rooms 500        rooms scenario: live rooms
  --viewers-per-room 20
  --chatters-per-room 1
  --room-rate 1           msg/s into each live room
  --conversations 5000    private conversations, both members connected
  --conversation-interval 10   seconds between two sends of one member
  --quick                 1½-minute smoke run: 1k viewers, 10 and 500 msg/s, 3 s windows, 2 s warm-up
  --viewers 1000,5000,10000
  --with-20k              add 20,000 viewers (two generator processes)
  --rates 10,100,500      combined msg/s of all chatters
  --chatters N            default: enough that each sends at most 4 msg/s at the highest rate
                          (live rooms allow 5/s per viewer, LIVE_RATE_PER_S; a busy room's
                          messages come from many viewers)
  --seconds 5             send window per scenario
  --drain 3               longest wait for late deliveries after the window
  --warmup 8              seconds the chatters send alone at the highest rate, unmeasured,
                          before the viewers connect (every system; 0 = none)
  --repeats 2             after the main run, ours and bare uWS at 10k viewers × 100 msg/s again,
                          up to this many more times, taking turns at going first, uWS first
                          (0 = none); the targets comparing them are judged on the median of
                          every pair's ratio
  --budget 570            seconds of run time: a repeat starts only if one more pair as long as
                          the last (45 s before the first) would end within it (the build
                          before the run and the report after it take the rest of 10 minutes)
  --targets ours,uws,socketio
  --durability redis      ours's ACK_DURABILITY; with several (redis,postgres), ours runs every
                          scenario again in each further mode, and the report sets the sender
                          ack of the modes side by side; with replica among them, every run of
                          ours has a Redis of its own with one replica attached (WAIT 1 needs it)
  --word-list 0           terms in ours's deployment word list (WORD_FILTER_FILE, generated:
                          words shaped like the messages', none blocking them); with several
                          (0,1000), ours runs every scenario again with each further size, and
                          the report sets the sender ack of the sizes side by side
  --embedded              after the main run, ours runs every scenario again as the embedded
                          system (\`pnpm start\` with no server URLs: one process, in-process bus,
                          memory hot state, PGlite), and the report sets it beside the distributed run
  --gateways 2            our gateways (and Socket.IO nodes)
  --workers 1             message workers
  --concurrency 500       handshakes in flight while connecting
  --viewers-per-generator 10000
  --no-pin                do not pin servers to core 0 and generators to core 1
  --profile               servers, workers and generators write CPU profiles (.cpuprofile, open in
                          Chrome DevTools) into the run's log folder
  --no-publish            do not write bench/RESULTS.md
  --out DIR               results folder (default bench/results)
Every flag can also be given as BENCH_<FLAG>, e.g. BENCH_VIEWERS=1000.`;

/** Chatters of the slot scenario, and the live-room rate limit their message worker gets (LIVE_RATE_PER_S and LIVE_RATE_BURST). */
export const SLOT_CHATTERS = 20;
export const SLOT_CHATTER_RATE = 10_000;

/** Each chatter stays under the message worker's default per-viewer live-room limit (5/s). */
const CHATTER_RATE = 4;

const list = (s: string) =>
  s
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
const count = (name: string, s: string) => {
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(s)}\n\n${USAGE}`);
  return n;
};
/** A count where 0 means none. */
const countOrNone = (name: string, s: string) => (s === '0' ? 0 : count(name, s));

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const spec = {
    scenario: { type: 'string' },
    'live-rooms': { type: 'string' },
    'viewers-per-room': { type: 'string' },
    'chatters-per-room': { type: 'string' },
    'room-rate': { type: 'string' },
    conversations: { type: 'string' },
    'conversation-interval': { type: 'string' },
    quick: { type: 'boolean' },
    'with-20k': { type: 'boolean' },
    viewers: { type: 'string' },
    rates: { type: 'string' },
    chatters: { type: 'string' },
    seconds: { type: 'string' },
    drain: { type: 'string' },
    warmup: { type: 'string' },
    repeats: { type: 'string' },
    budget: { type: 'string' },
    targets: { type: 'string' },
    durability: { type: 'string' },
    'word-list': { type: 'string' },
    embedded: { type: 'boolean' },
    gateways: { type: 'string' },
    workers: { type: 'string' },
    concurrency: { type: 'string' },
    'viewers-per-generator': { type: 'string' },
    'no-pin': { type: 'boolean' },
    'no-publish': { type: 'boolean' },
    profile: { type: 'boolean' },
    out: { type: 'string' },
    help: { type: 'boolean' },
  } as const;
  const { values } = parseArgs({ args: argv, options: spec, strict: true });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const get = (name: keyof typeof spec): string | undefined => {
    const flag = values[name];
    if (flag !== undefined) return String(flag);
    return env[`BENCH_${name.toUpperCase().replaceAll('-', '_')}`];
  };
  const flag = (name: keyof typeof spec) => ['true', '1'].includes(get(name) ?? '');
  const quick = flag('quick');
  const scenario = get('scenario') ?? 'live';
  if (!['live', 'rooms', 'cluster', 'slot'].includes(scenario)) throw new Error(`unknown scenario ${scenario}; use live, rooms, cluster, slot\n\n${USAGE}`);
  const byScenario = (values: Partial<Record<ScenarioName, string>>, otherwise: string) => values[scenario as ScenarioName] ?? otherwise;
  const viewers = list(get('viewers') ?? byScenario({ cluster: '10000', slot: '1' }, quick ? '1000' : '1000,5000,10000')).map((v) => count('viewers', v));
  if (flag('with-20k') && !viewers.includes(20_000)) viewers.push(20_000);
  const targets = list(get('targets') ?? byScenario({ cluster: 'ours', slot: 'ours' }, 'ours,uws,socketio'));
  for (const t of targets) {
    if (!['ours', 'uws', 'socketio'].includes(t)) throw new Error(`unknown target ${t}; use ours, uws, socketio\n\n${USAGE}`);
  }
  const durability = list(get('durability') ?? 'redis');
  for (const d of durability) {
    if (!['redis', 'replica', 'postgres'].includes(d)) throw new Error(`unknown durability ${d}; use redis, replica, postgres\n\n${USAGE}`);
  }
  const wordList = list(get('word-list') ?? '0').map((v) => countOrNone('word-list', v));
  const rates = list(get('rates') ?? byScenario({ cluster: '100', slot: '250,500,1000,2000,4000,8000' }, quick ? '10,500' : '10,100,500')).map((v) => count('rates', v));
  if (scenario !== 'live' && (flag('embedded') || flag('with-20k'))) throw new Error(`--embedded and --with-20k belong to the live scenario\n\n${USAGE}`);
  return {
    scenario: scenario as ScenarioName,
    rooms: {
      liveRooms: countOrNone('live-rooms', get('live-rooms') ?? '500'),
      viewersPerRoom: count('viewers-per-room', get('viewers-per-room') ?? '20'),
      chattersPerRoom: count('chatters-per-room', get('chatters-per-room') ?? '1'),
      roomRate: count('room-rate', get('room-rate') ?? '1'),
      conversations: countOrNone('conversations', get('conversations') ?? '5000'),
      conversationInterval: count('conversation-interval', get('conversation-interval') ?? '10'),
    },
    // The cluster and slot scenarios measure the engines' CPU: theirs must be the only load on them.
    engines: scenario === 'cluster' || scenario === 'slot' ? 'single' : 'shared',
    quick,
    viewers,
    rates,
    // The slot scenario's chatters are joined, so each gets every message: few of them, each
    // allowed far more than a viewer (SLOT_CHATTER_RATE), keep the fan-out out of its figures.
    chatters: count('chatters', get('chatters') ?? String(scenario === 'slot' ? SLOT_CHATTERS : Math.ceil(Math.max(...rates) / CHATTER_RATE))),
    // A rooms window sees each private member send about once.
    seconds: count('seconds', get('seconds') ?? byScenario({ rooms: '10' }, quick ? '3' : '5')),
    drain: count('drain', get('drain') ?? (quick ? '2' : '3')),
    warmup: countOrNone('warmup', get('warmup') ?? (quick ? '2' : '8')),
    repeats: countOrNone('repeats', get('repeats') ?? (quick || !['live', 'cluster'].includes(scenario) ? '0' : '2')),
    budget: count('budget', get('budget') ?? '570'),
    targets: targets as TargetName[],
    durability: [...new Set(durability)] as AckDurability[],
    wordList: [...new Set(wordList)],
    embedded: flag('embedded'),
    system: 'distributed',
    gateways: count('gateways', get('gateways') ?? '2'),
    workers: count('workers', get('workers') ?? '1'),
    concurrency: count('concurrency', get('concurrency') ?? '500'),
    viewersPerGenerator: count('viewers-per-generator', get('viewers-per-generator') ?? '10000'),
    pin: !flag('no-pin'),
    profile: flag('profile'),
    publish: !quick && !flag('no-publish'),
    out: get('out') ?? 'bench/results',
  };
}
