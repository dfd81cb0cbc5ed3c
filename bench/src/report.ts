// Renders a run: the Markdown tables (results, ratios of ours to each baseline, connect and
// memory, the issue's targets) and an SVG chart of e2e p99 and deliveries/s against viewers.
import { NATS_SPACING_MS } from './hop-cost';
import type { TargetName } from './ipc';
import { SLOT_CHATTER_RATE, type Engines } from './options';
import { FAN_OUT_WARM_UP, HEADLINE, SLOT_DEGRADED, type FanOutWarmUpFigures, type RoomsResult, type RunResult, type ScenarioResult } from './results';

const LABEL: Record<TargetName, string> = { ours: 'Lomi (ours)', uws: 'bare uWS', socketio: 'Socket.IO+Redis' };
const COLOR: Record<TargetName, string> = { ours: '#1f6fd1', uws: '#2a9d3a', socketio: '#d1402a' };
const BASELINES: TargetName[] = ['uws', 'socketio'];

const ms = (v: number | undefined) => (v === undefined ? '–' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
const rate = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(0));
const pct = (f: number) => (f >= 1 ? '100%' : `${(Math.floor(f * 1000) / 10).toFixed(1)}%`);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}×`);
const cores = (c: number) => c.toFixed(2);

function find(run: RunResult, target: TargetName, viewers: number, r: number): ScenarioResult | undefined {
  return run.scenarios.find((s) => s.target === target && s.viewers === viewers && s.rate === r);
}

/** Connect and memory figures come from the first session of a target at a viewer count. */
function firstSession(run: RunResult, target: TargetName, viewers: number): ScenarioResult | undefined {
  return run.scenarios.find((s) => s.target === target && s.viewers === viewers);
}

const SHORT_NAME: [RegExp, string][] = [
  [/^gateway-/, 'gw'],
  [/^message-worker-/, 'mw'],
  [/^presence-worker$/, 'pw'],
  [/^socketio-/, 'sio'],
  [/^uws-/, 'uws'],
];
const shortName = (name: string) => SHORT_NAME.reduce((n, [pattern, short]) => n.replace(pattern, short), name);
const serverCpu = (s: ScenarioResult) =>
  Object.entries(s.cpu)
    .filter(([name]) => name !== 'generator')
    .map(([name, c]) => `${shortName(name)} ${cores(c)}`)
    .join(', ');

/** Refused sends grouped by reason, numbers (retry delays) blanked so similar reasons add up. */
function refusals(errors: Record<string, number>): string {
  const grouped = new Map<string, number>();
  for (const [why, n] of Object.entries(errors)) {
    const reason = why.replace(/\d+ ms/g, 'N ms');
    grouped.set(reason, (grouped.get(reason) ?? 0) + n);
  }
  return grouped.size ? ` (refused: ${[...grouped].map(([why, n]) => `${n}× ${why}`).join('; ')})` : '';
}

type Pair = { ours: ScenarioResult; uws: ScenarioResult };

/** Ours and bare uWS in the headline scenario: the main run's pair, then each repeat's. */
function headlinePairs(run: RunResult): Pair[] {
  const pairs: Pair[] = [];
  const ours = find(run, 'ours', HEADLINE.viewers, HEADLINE.rate);
  const uws = find(run, 'uws', HEADLINE.viewers, HEADLINE.rate);
  if (ours && uws) pairs.push({ ours, uws });
  const repeated = (t: TargetName) => run.repeats.filter((s) => s.target === t);
  const [oursAgain, uwsAgain] = [repeated('ours'), repeated('uws')];
  for (let i = 0; i < Math.min(oursAgain.length, uwsAgain.length); i++) pairs.push({ ours: oursAgain[i]!, uws: uwsAgain[i]! });
  return pairs;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * A comparison of ours with bare uWS over every headline pair: each pair's figures and ratio,
 * and with several pairs the median ratio, which the verdict is about.
 */
function pairwise(pairs: Pair[], figure: (s: ScenarioResult) => number | undefined, show: (v: number) => string) {
  const measured = pairs.filter((p) => figure(p.ours) !== undefined && figure(p.uws) !== undefined);
  if (!measured.length) return { text: '–', ratio: undefined };
  const each = measured.map((p) => `${show(figure(p.ours)!)} vs ${show(figure(p.uws)!)} = ${ratio(figure(p.ours), figure(p.uws))}`);
  if (measured.length === 1) return { text: each[0]!, ratio: figure(measured[0]!.ours)! / figure(measured[0]!.uws)! };
  const m = median(measured.map((p) => figure(p.ours)! / figure(p.uws)!));
  return { text: `median ${ratio(m, 1)} over ${measured.length} pairs (${each.join('; ')})`, ratio: m };
}

function scenarioKeys(run: RunResult): [number, number][] {
  const keys = new Map<string, [number, number]>();
  for (const s of run.scenarios) keys.set(`${s.viewers}/${s.rate}`, [s.viewers, s.rate]);
  return [...keys.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

function targetChecks(run: RunResult): string[][] {
  const rows: string[][] = [];
  const check = (name: string, measured: string, ok: boolean | undefined) =>
    rows.push([name, measured, ok === undefined ? 'not measured' : ok ? '**pass**' : '**FAIL**']);
  const ours = find(run, 'ours', HEADLINE.viewers, HEADLINE.rate);
  const sio = find(run, 'socketio', HEADLINE.viewers, HEADLINE.rate);
  const pairs = headlinePairs(run);
  const everyOurs = [ours, ...run.repeats.filter((s) => s.target === 'ours')].filter((s): s is ScenarioResult => s !== undefined);
  check(
    '10k viewers @100 msg/s: 100% delivered',
    everyOurs.length ? everyOurs.map((s) => pct(s.fraction)).join(', ') : '–',
    everyOurs.length ? everyOurs.every((s) => s.fraction >= 1) : undefined,
  );
  const deliveries = pairwise(pairs, (s) => s.deliveriesPerSecond, rate);
  check('deliveries/s ≥ 0.9× bare uWS (10k @100)', deliveries.text, deliveries.ratio === undefined ? undefined : deliveries.ratio >= 0.9);
  const e2e = pairwise(
    pairs,
    (s) => s.latencyMs.p99,
    (v) => `${ms(v)} ms`,
  );
  check('e2e p99 ≤ bare uWS (10k @100)', e2e.text, e2e.ratio === undefined ? undefined : e2e.ratio <= 1);
  check(
    'deliveries/s ≥ 10× Socket.IO (10k @100)',
    ours && sio ? `${rate(ours.deliveriesPerSecond)} vs ${rate(sio.deliveriesPerSecond)} = ${ratio(ours.deliveriesPerSecond, sio.deliveriesPerSecond)}` : '–',
    ours && sio ? ours.deliveriesPerSecond >= 10 * sio.deliveriesPerSecond : undefined,
  );
  const idle = firstSession(run, 'ours', 10_000) ?? [...run.scenarios].reverse().find((s) => s.target === 'ours');
  const worstKb = idle ? Math.max(...idle.memory.map((m) => m.perIdleConnectionKb)) : undefined;
  check(
    `gateway ≤ 4 KB per idle viewer${idle ? ` (${idle.viewers / 1000}k viewers)` : ''}`,
    worstKb === undefined ? '–' : `${worstKb.toFixed(2)} KB (worst gateway)`,
    worstKb === undefined ? undefined : worstKb <= 4,
  );
  for (const s of run.scenarios.filter((x) => x.target === 'ours' && x.rate === 500)) {
    check(`sender ack p99 ≤ 15 ms @500 msg/s (${s.viewers / 1000}k viewers)`, `${ms(s.ackMs.p99)} ms`, s.ackMs.p99 !== undefined && s.ackMs.p99 <= 15);
  }
  if (!run.scenarios.some((x) => x.target === 'ours' && x.rate === 500)) check('sender ack p99 ≤ 15 ms @500 msg/s', '–', undefined);
  const connect = firstSession(run, 'ours', 10_000)?.connect;
  check(
    '10k authenticated connects+joins ≤ 5 s',
    connect ? `${connect.seconds.toFixed(2)} s (${rate(connect.perSecond)}/s)` : '–',
    connect && connect.seconds <= 5 && connect.failed === 0,
  );
  return rows;
}

/** Ours run again with one setting changed, each scenario beside the main run's: the sender ack and the message worker's part of it. */
function againTable(run: RunResult, again: ScenarioResult[], setting: { column: string; show: (s: ScenarioResult) => string; main: string }): string {
  return table(
    ['viewers', 'msg/s', setting.column, 'ack p50 / p99 ms', 'in the message worker p50 / p99 ms', `ack p99 ÷ ${setting.main}`],
    again.flatMap((other) => {
      const main = find(run, 'ours', other.viewers, other.rate);
      const row = (s: ScenarioResult) => [
        String(s.viewers),
        String(s.rate),
        setting.show(s),
        `${ms(s.ackMs.p50)} / ${ms(s.ackMs.p99)}${refusals(s.ackErrors)}`,
        s.serverTimings ? `${ms(s.serverTimings.worker.p50)} / ${ms(s.serverTimings.worker.p99)}` : '–',
        s === main ? '' : ratio(s.ackMs.p99, main?.ackMs.p99),
      ];
      return main ? [row(main), row(other)] : [row(other)];
    }),
  );
}

const table = (head: string[], rows: string[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function warmUpSentence(run: RunResult): string {
  const seconds = run.options.warmup;
  if (!seconds) return '';
  return (
    `Before its viewers connect, every system under test gets ${seconds} s of the chatters sending alone at the highest rate, unmeasured: ` +
    'a fresh Node process runs its code unoptimised until V8 has seen it run thousands of times, and a deployed service is warm when a stream starts. ' +
    `Once they have joined, the chatters send for ${FAN_OUT_WARM_UP.seconds} s more (at up to the highest rate, ${rate(FAN_OUT_WARM_UP.deliveries)} deliveries at most), unmeasured and awaited, so that the fan-out is warm too (figures below). `
  );
}

/** How the fan-out warm-up went, for the report and the progress line. */
export function describeFanOutWarmUp(f: FanOutWarmUpFigures): string {
  return `at ${f.rate}/s: ${(f.fraction * 100).toFixed(1)}% delivered in ${f.tookSeconds.toFixed(1)} s`;
}

export function renderMarkdown(run: RunResult, chartFile: string): string {
  if (run.scenario && run.scenario !== 'live') {
    return [`# Lomi bench, --scenario ${run.scenario}, ${run.startedAt}`, '', scenarioSection(run)].join('\n') + '\n';
  }
  const targets = [...new Set(run.scenarios.map((s) => s.target))];
  const out: string[] = [];
  out.push(`# Live-room benchmark, ${run.startedAt}`, '');
  out.push(
    `Command: \`${run.command}\` (${run.durationSeconds.toFixed(0)} s). Machine: ${run.machine.cpus} cores, Node ${run.machine.node}, load average at start ${run.machine.loadavgAtStart}.`,
    ...(run.machine.hopCost
      ? [
          `One hop between two processes here (a 100-byte round trip over loopback TCP) takes ${run.machine.hopCost.p50Us.toFixed(0)} µs at the median, ${run.machine.hopCost.p99Us.toFixed(0)} µs at p99; ` +
            `a NATS request/reply between two processes (one every ${NATS_SPACING_MS} ms) ${(run.machine.hopCost.natsP50Us / 1000).toFixed(2)} ms at the median, ${(run.machine.hopCost.natsP99Us / 1000).toFixed(2)} ms at p99. ` +
            'Before its ack, a send of ours makes three such round trips that the baselines do not (gateway ⇄ NATS ⇄ message worker ⇄ Redis, the first two being the NATS request/reply), and its delivery one more (message worker → NATS → gateways).',
        ]
      : []),
    `${run.pinning}`,
    `One live room; ${run.scenarios[0]?.chatters ?? '?'} chatters send ~100-byte texts at the combined rate for ${run.options.seconds} s per scenario; ` +
      `late deliveries are awaited up to ${run.options.drain} s. Latency is send → viewer receipt on one clock. ` +
      warmUpSentence(run) +
      `Ours runs as deployed: ${run.options.gateways} gateways, ${run.options.workers} message worker(s), a presence worker, real NATS/Redis/Postgres; ` +
      `the sender ack comes after the message is stored. Bare uWS acks by echoing in its message handler; Socket.IO (${run.options.gateways} nodes, Redis adapter) acks with its ack callback.`,
    '',
    `![e2e p99 and deliveries/s against viewers](${chartFile})`,
    '',
    '## Results',
    '',
  );
  const rows: string[][] = [];
  for (const [viewers, r] of scenarioKeys(run)) {
    for (const t of targets) {
      const s = find(run, t, viewers, r);
      if (!s) continue;
      rows.push([
        String(viewers),
        String(r),
        LABEL[t],
        `${pct(s.fraction)}${s.viewersShort ? ` (${s.viewersShort} short)` : ''}`,
        `${rate(s.deliveriesPerSecond)} (${rate(s.offeredPerSecond)})${s.messagesPerFrame === undefined ? '' : `, ${s.messagesPerFrame.toFixed(2)} msg/frame`}`,
        `${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p90)} / ${ms(s.latencyMs.p99)} / ${ms(s.latencyMs.max)}`,
        `${ms(s.ackMs.p50)} / ${ms(s.ackMs.p99)}${refusals(s.ackErrors)}`,
        serverCpu(s),
        `${cores(s.generator.cpu)}${s.generator.saturated ? ' **sat.**' : ''}`,
        `${cores(s.otherCpu)}`,
        s.limitedBy + (s.afterRestart ? ' (restarted)' : ''),
      ]);
    }
  }
  out.push(
    table(
      [
        'viewers',
        'msg/s',
        'server',
        'delivered',
        'deliveries/s (offered)',
        'e2e p50 / p90 / p99 / max ms',
        'ack p50 / p99 ms',
        'server CPU (cores)',
        'generator CPU',
        'other load',
        'limited by',
      ],
      rows,
    ),
    '',
  );

  if (targets.includes('ours') && targets.some((t) => BASELINES.includes(t))) {
    out.push('## Ours as a ratio to each baseline', '', 'Deliveries/s: higher is better; latency: lower is better.', '');
    const ratioRows: string[][] = [];
    for (const [viewers, r] of scenarioKeys(run)) {
      const ours = find(run, 'ours', viewers, r);
      if (!ours) continue;
      const cells = [String(viewers), String(r)];
      for (const b of BASELINES) {
        const base = find(run, b, viewers, r);
        cells.push(ratio(ours.deliveriesPerSecond, base?.deliveriesPerSecond), ratio(ours.latencyMs.p99, base?.latencyMs.p99), ratio(ours.ackMs.p99, base?.ackMs.p99));
      }
      ratioRows.push(cells);
    }
    out.push(
      table(
        ['viewers', 'msg/s', 'deliveries/s ÷ uWS', 'e2e p99 ÷ uWS', 'ack p99 ÷ uWS', 'deliveries/s ÷ Socket.IO', 'e2e p99 ÷ Socket.IO', 'ack p99 ÷ Socket.IO'],
        ratioRows,
      ),
      '',
    );
  }

  const timed = run.scenarios.filter((s) => s.serverTimings);
  if (timed.length) {
    out.push(
      "## Where a send's ack time goes (ours)",
      '',
      "The sender's ack as the generator measures it, and the part of it inside our gateway (client frame in → ack out) and inside the message worker (request in → reply out), " +
        'from their own `lomi_gateway_command_seconds` and `lomi_worker_command_seconds` histograms (interpolated within buckets). ' +
        'What the gateway adds to the worker is NATS both ways and its own event loop; what the client adds to the gateway is the sockets and both event loops.',
      '',
      table(
        ['viewers', 'msg/s', 'ack at the client p50 / p99 ms', 'in the gateway p50 / p99 ms', 'in the message worker p50 / p99 ms'],
        timed.map((s) => [
          String(s.viewers),
          String(s.rate),
          `${ms(s.ackMs.p50)} / ${ms(s.ackMs.p99)}`,
          `${ms(s.serverTimings!.gateway.p50)} / ${ms(s.serverTimings!.gateway.p99)}`,
          `${ms(s.serverTimings!.worker.p50)} / ${ms(s.serverTimings!.worker.p99)}`,
        ]),
      ),
      '',
    );
  }

  if (run.durabilityRuns.length) {
    out.push(
      '## Sender ack by durability mode (ours)',
      '',
      'Ours acks a send once Redis stored it (`ACK_DURABILITY=redis`), once a Redis replica has it too (`replica`: `WAIT 1` per event-loop turn; a failover ' +
        'to that replica loses nothing acked; those runs give ours a Redis of its own with one replica attached, the main run too) or only once its row is ' +
        'committed in Postgres (`postgres`: nothing acked is lost with Redis). Each further mode ran every scenario again on a freshly started system, after the main run.',
      '',
      againTable(run, run.durabilityRuns, { column: 'mode', show: (s) => s.durability ?? 'redis', main: 'redis mode' }),
      '',
    );
  }

  if (run.wordListRuns.length) {
    const mainTerms = run.options.wordList[0] ?? 0;
    out.push(
      '## Sender ack by deployment word list (ours)',
      '',
      "Ours's message worker checks every live-room message against the deployment's word list (`WORD_FILTER_FILE`) before storing it. " +
        `The main run had ${mainTerms ? `a list of ${mainTerms} terms` : 'none'}; each further size ran every scenario again on a freshly started system, after the main run, ` +
        "with a generated list (`sendPathWordList` of `@lomi/word-filter`): words made to share their beginnings with the messages' words, so that " +
        'every word of a message is read to its end, and none blocking a bench message, so every send is checked and stored.',
      '',
      againTable(run, run.wordListRuns, { column: 'terms', show: (s) => String(s.wordListTerms ?? 0), main: 'main run' }),
      '',
    );
  }

  if (run.embeddedRuns?.length) {
    out.push(
      '## Embedded (one process) beside distributed (ours)',
      '',
      'The main run is ours as deployed: gateways, a message worker and a presence worker in their own processes, on NATS, Redis and Postgres. ' +
        'The embedded system is what `pnpm start` runs with no server URLs: every service in one process (one gateway), on the in-process bus, the ' +
        "memory hot state and PGlite. It ran every scenario again on a freshly started system, after the main run, on the servers' core.",
      '',
      table(
        ['viewers', 'msg/s', 'system', 'delivered', 'deliveries/s', 'e2e p50 / p99 ms', 'ack p50 / p99 ms', 'e2e p99 ÷ distributed', 'ack p99 ÷ distributed'],
        run.embeddedRuns.flatMap((embedded) => {
          const main = find(run, 'ours', embedded.viewers, embedded.rate);
          const row = (s: ScenarioResult) => [
            String(s.viewers),
            String(s.rate),
            s.system ?? 'distributed',
            pct(s.fraction),
            rate(s.deliveriesPerSecond),
            `${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p99)}`,
            `${ms(s.ackMs.p50)} / ${ms(s.ackMs.p99)}${refusals(s.ackErrors)}`,
            s === main ? '' : ratio(s.latencyMs.p99, main?.latencyMs.p99),
            s === main ? '' : ratio(s.ackMs.p99, main?.ackMs.p99),
          ];
          return main ? [row(main), row(embedded)] : [row(embedded)];
        }),
      ),
      '',
    );
  }

  const fannedOut = timed.filter((s) => s.serverTimings!.fanOut.p50 !== undefined);
  if (fannedOut.length) {
    out.push(
      "## Where a delivery's time goes (ours)",
      '',
      'End-to-end latency as the generator measures it (chatter send → viewer receipt), and how old each message was when a gateway wrote it to ' +
        "a group of its viewers' sockets, from the message worker's creating it (`lomi_gateway_fanout_delay_seconds`, interpolated within buckets): " +
        'storage, NATS, the batch window and the sweep. What the viewer adds to the write is the send reaching the worker (gateway and NATS, ' +
        'about the ack figures above), the loopback socket and the generator reading thousands of them on its core.',
      '',
      table(
        ['viewers', 'msg/s', 'e2e at the viewer p50 / p99 ms', 'written by the gateway p50 / p99 ms'],
        fannedOut.map((s) => [
          String(s.viewers),
          String(s.rate),
          `${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p99)}`,
          `${ms(s.serverTimings!.fanOut.p50)} / ${ms(s.serverTimings!.fanOut.p99)}`,
        ]),
      ),
      '',
    );
  }

  out.push('## Connect + join and memory per connection', '');
  const memRows: string[][] = [];
  for (const viewers of [...new Set(run.scenarios.map((s) => s.viewers))]) {
    for (const t of targets) {
      const s = firstSession(run, t, viewers);
      if (!s) continue;
      const loaded = run.scenarios.filter((x) => x.target === t && x.viewers === viewers);
      const perProcess = (f: (m: ScenarioResult['memory'][number]) => number | undefined) =>
        s.memory.map((m, i) => {
          const values = loaded.map((x) => f(x.memory[i] ?? m)).filter((v): v is number => v !== undefined);
          return values.length ? Math.max(...values).toFixed(2) : '–';
        });
      memRows.push([
        String(viewers),
        LABEL[t],
        `${s.connect.seconds.toFixed(2)} s (${rate(s.connect.perSecond)}/s)`,
        s.connect.failed ? `${s.connect.failed}: ${s.connect.errors.join('; ')}` : '0',
        s.memory
          .map((m) => `${m.perIdleConnectionKb.toFixed(2)}${m.heapPerIdleConnectionKb === undefined ? '' : ` (heap ${m.heapPerIdleConnectionKb.toFixed(2)})`}`)
          .join(' / '),
        perProcess((m) => m.perLoadedConnectionKb).join(' / '),
        s.memory.map((m) => `${(m.connectedKb / 1024).toFixed(0)}`).join(' / '),
      ]);
    }
  }
  out.push(
    table(
      ['viewers', 'server', 'connect+join', 'failed', 'KB per idle connection (per process)', 'KB per connection under load (worst rate)', 'RSS connected, MB'],
      memRows,
    ),
    '',
  );
  if (targets.includes('ours')) {
    const memRatio: string[][] = [];
    for (const viewers of [...new Set(run.scenarios.map((s) => s.viewers))]) {
      const ours = firstSession(run, 'ours', viewers);
      if (!ours) continue;
      const oursKb = Math.max(...ours.memory.map((m) => m.perIdleConnectionKb));
      const cells = [String(viewers)];
      for (const b of BASELINES) {
        const base = firstSession(run, b, viewers);
        cells.push(ratio(oursKb, base ? Math.max(...base.memory.map((m) => m.perIdleConnectionKb)) : undefined), ratio(ours.connect.seconds, base?.connect.seconds));
      }
      memRatio.push(cells);
    }
    out.push(table(['viewers', 'KB/idle conn ÷ uWS', 'connect time ÷ uWS', 'KB/idle conn ÷ Socket.IO', 'connect time ÷ Socket.IO'], memRatio), '');
  }
  const warmUpRows: string[][] = [];
  for (const viewers of [...new Set(run.scenarios.map((s) => s.viewers))]) {
    for (const t of targets) {
      const first = firstSession(run, t, viewers);
      const w = first?.warmUp;
      const f = first?.fanOutWarmUp;
      const fanOut = f ? `${f.sent} ${describeFanOutWarmUp(f)}` : '–';
      if (w) warmUpRows.push([String(viewers), LABEL[t], `${w.sent} at ${w.rate}/s`, String(w.acked), `${ms(w.ackMs.p50)} / ${ms(w.ackMs.p99)}`, fanOut]);
    }
  }
  if (warmUpRows.length) {
    out.push(
      '## Warm-up (in no figure above)',
      '',
      'The chatters alone, sending into the room before any viewer joined it, on freshly started servers: the ack here is what a cold process gives. Then, with the viewers joined, the fan-out warm-up.',
      '',
      table(['viewers', 'server', 'sent', 'acked', 'ack p50 / p99 ms', 'with the viewers joined'], warmUpRows),
      '',
    );
  }

  const pairs = headlinePairs(run);
  if (pairs.length > 1) {
    out.push(
      `## Ours and bare uWS at ${HEADLINE.viewers} viewers × ${HEADLINE.rate} msg/s, pair by pair`,
      '',
      'The main run measured ours first; the repeats take turns, bare uWS first in the first one, each system started afresh and warmed up as above. ' +
        "The targets comparing the two are judged on the median of the pairs' ratios.",
      '',
      table(
        [
          'pair',
          'e2e p50 / p99 ms, ours',
          'e2e p50 / p99 ms, uWS',
          'e2e p99 ÷ uWS',
          'deliveries/s ÷ uWS',
          'ack p99 ms, ours / uWS',
          'generator CPU, ours / uWS',
          'ours connect+join',
        ],
        pairs.map((p, i) => [
          i === 0 ? 'main run' : `repeat ${i}`,
          `${ms(p.ours.latencyMs.p50)} / ${ms(p.ours.latencyMs.p99)}`,
          `${ms(p.uws.latencyMs.p50)} / ${ms(p.uws.latencyMs.p99)}`,
          ratio(p.ours.latencyMs.p99, p.uws.latencyMs.p99),
          ratio(p.ours.deliveriesPerSecond, p.uws.deliveriesPerSecond),
          `${ms(p.ours.ackMs.p99)} / ${ms(p.uws.ackMs.p99)}`,
          `${cores(p.ours.generator.cpu)} / ${cores(p.uws.generator.cpu)}`,
          `${p.ours.connect.seconds.toFixed(2)} s`,
        ]),
      ),
      '',
    );
  }

  out.push('## Targets of issue 5', '', table(['target', 'measured', 'verdict'], targetChecks(run)), '');
  out.push(
    '## How to read this',
    '',
    '- *delivered*: messages received by all viewers after the drain ÷ (messages sent × viewers joined); "short" = viewers that missed at least one.',
    '- *deliveries/s*: messages received by all viewers from the end of a ramp (the first second of the window) to the end of the send window, per second: the offered rate (sent/s × viewers) when the server keeps up, its capacity when it falls behind.',
    '- *msg/frame* (ours): room messages per WebSocket frame; above 1 when the gateway sent a burst as one batch frame. The baselines send one frame per message.',
    '- *server CPU*: cores used during the window by each process of the system under test (gw = gateway, mw = message worker, pw = presence worker, sio = Socket.IO node). ' +
      'NATS, Redis and Postgres are shared with the rest of the machine and not pinned; their CPU is in the JSON (`infraCpu`).',
    '- *generator CPU*: cores used by the load generator(s); **sat.** = at least 0.9 of a core or event-loop lag p99 ≥ 100 ms, i.e. the figures of that row are bounded by the generator, not the server.',
    '- *other load*: busy CPU not accounted for by this run (other agents, the OS): noise. Numbers vary ±20–30% between runs near saturation; compare ratios within one run.',
    '- *KB per connection*: (RSS with the sockets − RSS before) ÷ sockets held by that process, idle after connect and at the end of each send window. ' +
      'For our gateways, "heap" is the part that is V8 heap in use (from their /metrics); the rest is uWS, native buffers and heap not yet returned.',
    '- Not measured: TLS, real networks (all loopback), private rooms, history/recovery, JSON encoding, more than one room, more than one machine.',
  );
  if (run.skipped.length) out.push('', '## Skipped', '', ...run.skipped.map((s) => `- ${s}`));
  out.push(...errorLines(run));
  return out.join('\n') + '\n';
}

function errorLines(run: RunResult): string[] {
  return run.errors.length ? ['', '## Errors', '', ...run.errors.map((e) => `- ${e.split('\n')[0]}`)] : [];
}

// --- the other scenarios: one section each, merged into RESULTS.md between markers -------------

const sectionStart = (name: string) => `<!-- bench scenario ${name} -->`;
const sectionEnd = (name: string) => `<!-- /bench scenario ${name} -->`;

/** The section of scenario `name` in `markdown`: [start, end) including its markers, or undefined. */
function findSection(markdown: string, name: string): [number, number] | undefined {
  const start = markdown.indexOf(sectionStart(name));
  const end = markdown.indexOf(sectionEnd(name), start);
  return start < 0 || end < 0 ? undefined : [start, end + sectionEnd(name).length];
}

/** RESULTS.md after a scenario run: its section replaced where it was, or added at the end. */
export function mergeScenarioSection(published: string, run: RunResult): string {
  const section = scenarioSection(run);
  const at = findSection(published, run.scenario!);
  return at ? published.slice(0, at[0]) + section + published.slice(at[1]) : `${published.trimEnd()}\n\n${section}\n`;
}

/** A live run's RESULTS.md, with the other scenarios' sections the published one had. */
export function keepScenarioSections(markdown: string, published: string): string {
  const kept = (['rooms', 'cluster', 'slot'] as const).flatMap((name) => {
    const at = findSection(published, name);
    return at ? [published.slice(...at)] : [];
  });
  return kept.length ? `${markdown.trimEnd()}\n\n${kept.join('\n\n')}\n` : markdown;
}

function runLine(run: RunResult): string {
  return (
    `Command: \`${run.command}\` (${run.startedAt}, ${run.durationSeconds.toFixed(0)} s). Machine: ${run.machine.cpus} cores, Node ${run.machine.node}, ` +
    `load average at start ${run.machine.loadavgAtStart}: other agents run tests on the same two cores, so every figure here is noisy ` +
    '(the *other load* column is the CPU busy outside the run during the window). ' +
    run.pinning
  );
}

function scenarioSection(run: RunResult): string {
  const body = run.scenario === 'rooms' ? roomsSection(run) : run.scenario === 'cluster' ? clusterSection(run) : slotSection(run);
  // Its errors stay with it in RESULTS.md.
  const errors = run.errors.length ? ['', `Errors of this run: ${run.errors.map((e) => e.split('\n')[0]).join('; ')}`] : [];
  return [sectionStart(run.scenario!), ...body, ...errors, sectionEnd(run.scenario!)].join('\n');
}

const SYSTEM_NAMES: [RegExp, string][] = [...SHORT_NAME, [/^generator$/, 'generator']];
const usPerDelivery = (v: number | undefined) => (v === undefined ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const INFRA = ['nats-server', 'redis-server', 'postgres'];
const ENGINES: Record<Engines, string> = { shared: "the machine's NATS and Redis", single: '1 NATS + 1 Redis', cluster: '3 NATS + 3+3 Redis Cluster' };

function roomsSection(run: RunResult): string[] {
  const rooms = run.rooms ?? [];
  const l = rooms[0]?.layout;
  const out = ['## Many rooms at once (`--scenario rooms`)', '', runLine(run), ''];
  if (!l) return [...out, 'No target completed the scenario.'];
  const sockets = rooms[0]!.sockets;
  out.push(
    `${l.liveRooms} live rooms × ${l.viewersPerRoom} viewers (+ ${l.chattersPerRoom} chatter each, sending ${l.roomRate} msg/s into its room), and ` +
      `${l.conversations} private conversations with both members connected and joined, each member sending one message every ${l.conversationInterval} s: ` +
      `${sockets} sockets, every one in its own room, spread over the servers (a conversation's two members on different ones), ` +
      `held by ${rooms[0]!.generator.processes} generator processes (the senders in one, the viewers in the other). ` +
      `One ${run.options.seconds} s window after ${run.options.warmup} s of the same traffic unmeasured; late deliveries awaited up to ${run.options.drain} s. ` +
      'Ours creates its rooms through its service API (`POST /api/v1/live`, `POST /api/v1/conversations`) and runs as deployed ' +
      `(${run.options.gateways} gateways, ${run.options.workers} message worker(s), a presence worker); ` +
      `bare uWS serves each room as a topic of its own (in ${run.options.gateways} processes, each room's sockets all on one: its topics do not cross processes), ` +
      `Socket.IO (${run.options.gateways} nodes, Redis adapter) as a room of its own. In every system a private message also comes back to its sender; ` +
      "it is not counted as a delivery. *Cores busy*: each of the machine's two cores during the window, everything on it included; at 100% the latency is the machine's queue, not the system's. " +
      "*Out of order*: deliveries of a room's message numbered below one the receiver already had (a room's messages are numbered as sent, a second apart or more).",
    '',
    table(
      [
        'server',
        'sockets joined (failed)',
        'connect+join',
        'sends/s',
        'delivered',
        'deliveries/s (offered)',
        'live e2e p50 / p99 ms',
        'live ack p50 / p99 ms',
        'private e2e p50 / p99 ms',
        'private ack p50 / p99 ms',
        'ours: ack p99 in gateway / worker, written by the gateway p99 ms',
        'out of order',
        'cores busy (other load)',
      ],
      rooms.map((r) => [
        LABEL[r.target],
        `${r.sockets - r.connect.failed}${r.connect.failed ? ` (${r.connect.failed}: ${r.connect.errors.join('; ')})` : ''}`,
        `${r.connect.seconds.toFixed(1)} s${r.roomsCreatedSeconds === undefined ? '' : ` (+ ${r.roomsCreatedSeconds.toFixed(1)} s creating the rooms)`}`,
        rate(r.sendsPerSecond),
        `${pct(r.fraction)}${r.viewersShort ? ` (${r.viewersShort} short)` : ''}`,
        `${rate(r.deliveriesPerSecond)} (${rate(r.offeredPerSecond)})`,
        `${ms(r.live.latencyMs.p50)} / ${ms(r.live.latencyMs.p99)}`,
        `${ms(r.live.ackMs.p50)} / ${ms(r.live.ackMs.p99)}${refusals(r.ackErrors)}`,
        `${ms(r.private.latencyMs.p50)} / ${ms(r.private.latencyMs.p99)}`,
        `${ms(r.private.ackMs.p50)} / ${ms(r.private.ackMs.p99)}`,
        r.serverTimings ? `${ms(r.serverTimings.gateway.p99)} / ${ms(r.serverTimings.worker.p99)}, ${ms(r.serverTimings.fanOut.p99)}` : '–',
        String(r.outOfOrder),
        `${r.cores.map((c) => `${Math.round(c * 100)}%`).join(' / ')} (${cores(r.otherCpu)})`,
      ]),
    ),
    '',
    '### CPU per delivered message (rooms)',
    '',
    "CPU time of each process during the window ÷ deliveries in it, in µs (cores × 10⁶ ÷ deliveries/s). NATS, Redis and Postgres are the machine's shared servers: " +
      'their figure includes whatever else used them, and only ours uses them (Socket.IO its Redis adapter).',
    '',
    table(
      ['server', 'its processes, µs per delivery (cores)', 'system total µs', 'generator µs', 'NATS / Redis / Postgres µs'],
      rooms.map((r) => {
        const own = Object.keys(r.cpu).filter((n) => n !== 'generator');
        return [
          LABEL[r.target],
          own.map((n) => `${SYSTEM_NAMES.reduce((x, [p, short]) => x.replace(p, short), n)} ${usPerDelivery(r.cpuUsPerDelivery[n])} (${cores(r.cpu[n]!)})`).join(', '),
          usPerDelivery(own.reduce((t, n) => t + (r.cpuUsPerDelivery[n] ?? 0), 0)),
          usPerDelivery(r.cpuUsPerDelivery.generator),
          INFRA.map((n) => usPerDelivery(r.cpuUsPerDelivery[n])).join(' / '),
        ];
      }),
    ),
    '',
    table(
      ['server', 'RSS idle → connected, MB (per process)', 'KB per socket'],
      rooms.map((r) => [
        LABEL[r.target],
        r.memory.map((m) => `${(m.idleKb / 1024).toFixed(0)} → ${(m.connectedKb / 1024).toFixed(0)}`).join(' / '),
        (r.memory.reduce((t, m) => t + m.connectedKb - m.idleKb, 0) / r.sockets).toFixed(2),
      ]),
    ),
  );
  const ours = rooms.find((r) => r.target === 'ours');
  const systemUs = (r: RoomsResult) =>
    Object.keys(r.cpu)
      .filter((n) => n !== 'generator')
      .reduce((t, n) => t + (r.cpuUsPerDelivery[n] ?? 0), 0);
  const others = rooms.filter((r) => r.target !== 'ours');
  if (ours && others.length) {
    out.push(
      '',
      table(
        ['ours ÷', 'deliveries/s', 'live e2e p99', 'live ack p99', 'private e2e p99', 'private ack p99', 'system CPU per delivery'],
        others.map((b) => [
          LABEL[b.target],
          ratio(ours.deliveriesPerSecond, b.deliveriesPerSecond),
          ratio(ours.live.latencyMs.p99, b.live.latencyMs.p99),
          ratio(ours.live.ackMs.p99, b.live.ackMs.p99),
          ratio(ours.private.latencyMs.p99, b.private.latencyMs.p99),
          ratio(ours.private.ackMs.p99, b.private.ackMs.p99),
          ratio(systemUs(ours), systemUs(b)),
        ]),
      ),
    );
  }
  return out;
}

function clusterSection(run: RunResult): string[] {
  const out = ['## Clustered engines beside single ones (`--scenario cluster`)', '', runLine(run), ''];
  out.push(
    'Ours in the live-room scenario, first on one NATS server and one Redis, then on a 3-node NATS cluster and a 3-master Redis Cluster (+3 replicas), each started for the run ' +
      'on this machine (`startNatsCluster`, `startRedisCluster` of @lomi/testkit; `REDIS_CLUSTER_NODES`, and every process given the full NATS server list starting at a ' +
      'different node: gateways on nodes 1 and 2, the message worker on node 3, the presence worker on node 1). Each system is started afresh, engines included, and warmed up as the headline is; ' +
      "the NATS and Redis CPU is that of the engines' own processes (every node, replicas included). " +
      'On one machine the cluster costs its hops and its processes without giving more cores: the ratio is the overhead of distributing the engines, not what they buy.',
    '',
  );
  const rows: string[][] = [];
  const ratios: string[][] = [];
  const engineCpu = (s: ScenarioResult) => (s.engineCpu ? s.engineCpu.nats + s.engineCpu.redis : undefined);
  const systemCpu = (s: ScenarioResult) => Object.entries(s.cpu).reduce((t, [n, c]) => t + (n === 'generator' ? 0 : c), 0);
  const figures: [string, (s: ScenarioResult) => number | undefined][] = [
    ['ack p50', (s) => s.ackMs.p50],
    ['ack p99', (s) => s.ackMs.p99],
    ['e2e p50', (s) => s.latencyMs.p50],
    ['e2e p99', (s) => s.latencyMs.p99],
    ['deliveries/s', (s) => s.deliveriesPerSecond],
    ['our CPU', systemCpu],
    ['NATS + Redis CPU', engineCpu],
  ];
  // scenarios[i] and clusterRuns[i] ran as a pair (run.ts).
  const pairs = run.scenarios
    .map((single, i) => ({ single, cluster: run.clusterRuns?.[i] }))
    .filter((p): p is { single: ScenarioResult; cluster: ScenarioResult } => !!p.cluster);
  const pairOf = new Map<string, number>();
  for (const { single, cluster } of pairs) {
    const key = `${single.viewers}/${single.rate}`;
    const n = (pairOf.get(key) ?? 0) + 1;
    pairOf.set(key, n);
    for (const s of [single, cluster]) {
      rows.push([
        String(s.viewers),
        String(s.rate),
        String(n),
        ENGINES[s.engines ?? 'shared'],
        `${pct(s.fraction)}${s.viewersShort ? ` (${s.viewersShort} short)` : ''}`,
        `${rate(s.deliveriesPerSecond)} (${rate(s.offeredPerSecond)})`,
        `${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p99)}`,
        `${ms(s.ackMs.p50)} / ${ms(s.ackMs.p99)}${refusals(s.ackErrors)}`,
        s.serverTimings ? `${ms(s.serverTimings.gateway.p99)} / ${ms(s.serverTimings.worker.p99)}` : '–',
        serverCpu(s),
        s.engineCpu ? `${cores(s.engineCpu.nats)} / ${cores(s.engineCpu.redis)}` : '–',
        cores(s.otherCpu),
        s.limitedBy,
      ]);
    }
    ratios.push([String(single.viewers), String(single.rate), String(n), ...figures.map(([, f]) => ratio(f(cluster), f(single)))]);
  }
  for (const key of pairOf.keys()) {
    const these = pairs.filter((p) => `${p.single.viewers}/${p.single.rate}` === key);
    if (these.length < 2) continue;
    const medianRatio = (f: (s: ScenarioResult) => number | undefined) => {
      const values = these.map((p) => [f(p.cluster), f(p.single)]).filter(([c, s]) => c !== undefined && s) as [number, number][];
      return values.length ? ratio(median(values.map(([c, s]) => c / s)), 1) : '–';
    };
    const [viewers, r] = key.split('/');
    ratios.push([viewers!, r!, `**median of ${these.length}**`, ...figures.map(([, f]) => `**${medianRatio(f)}**`)]);
  }
  out.push(
    table(
      [
        'viewers',
        'msg/s',
        'pair',
        'engines',
        'delivered',
        'deliveries/s (offered)',
        'e2e p50 / p99 ms',
        'ack p50 / p99 ms',
        'ack p99 in gateway / worker ms',
        'our CPU (cores)',
        'NATS / Redis CPU (cores)',
        'other load',
        'limited by',
      ],
      rows,
    ),
    '',
    "Cluster ÷ single, pair by pair (the first pair ran single engines first, the next ones take turns), and the median of the pairs' ratios:",
    '',
    table(['viewers', 'msg/s', 'pair', ...figures.map(([name]) => name)], ratios),
  );
  return out;
}

function slotSection(run: RunResult): string[] {
  const slot = run.slot;
  const out = ["## One room's appends/s: one Redis slot (`--scenario slot`)", '', runLine(run), ''];
  out.push(
    "Ours runs on a Redis and a NATS server of its own, started for the run, so that the Redis CPU is this room's alone (it includes Redis's fixed work, " +
      'so per send it is an upper figure, and the ceiling derived from it a lower one). ' +
      `The chatters are few (${run.slot?.steps[0]?.result.chatters ?? '?'}) and their message worker allows each of them ${SLOT_CHATTER_RATE} msg/s (LIVE_RATE_PER_S, LIVE_RATE_BURST): ` +
      'a live room takes sends only from sockets that joined it, so every chatter also receives every message, and the fan-out to them must stay small. ' +
      "All of a room's messages are appended to its history in one Redis slot (its keys share a hash tag), so one room's send rate is bounded by what one slot — one Redis " +
      'master, one core — takes. Here one live room with one viewer gets sends at a rising rate, each step a window on the same system; a step is sustained while every send ' +
      `is acked in time, none is refused, and the ack p99 stays within ${SLOT_DEGRADED.ackGrowth}× the first step's (or under ${SLOT_DEGRADED.ackP99Ms} ms). ` +
      'On this machine the message worker, the gateway and Redis share two cores, so the step that degrades first shows which of them gives out: the *Redis µs per send* column ' +
      'is what bounds one slot (Redis runs single-threaded: 10⁶ ÷ µs per send is the most appends/s one master could take for one room, all else being free).',
    '',
  );
  if (!slot?.steps.length) return [...out, 'No step completed.'];
  out.push(
    table(
      [
        'msg/s',
        'chatters',
        'sent/s',
        'acked',
        'ack p50 / p99 ms',
        'in the worker p50 / p99 ms',
        'e2e p99 ms',
        'our CPU (cores)',
        'Redis CPU (cores)',
        'Redis µs per send',
        'other load',
        'verdict',
      ],
      slot.steps.map(({ rate: r, result: s, degraded }) => {
        const sentPerS = s.sent / s.windowSeconds;
        const redis = s.engineCpu?.redis ?? s.infraCpu['redis-server'] ?? 0;
        return [
          String(r),
          String(s.chatters),
          rate(sentPerS),
          `${s.acked} of ${s.sent}`,
          `${ms(s.ackMs.p50)} / ${ms(s.ackMs.p99)}${refusals(s.ackErrors)}`,
          s.serverTimings ? `${ms(s.serverTimings.worker.p50)} / ${ms(s.serverTimings.worker.p99)}` : '–',
          ms(s.latencyMs.p99),
          serverCpu(s),
          cores(redis),
          sentPerS ? ((redis * 1e6) / sentPerS).toFixed(1) : '–',
          cores(s.otherCpu),
          degraded ? `degraded: ${degraded}; limited by ${s.limitedBy}` : 'sustained',
        ];
      }),
    ),
    '',
  );
  const best = slot.steps.find((s) => s.rate === slot.maxSustained)?.result;
  if (best) {
    const sentPerS = best.sent / best.windowSeconds;
    const redisCores = (r: ScenarioResult) => r.engineCpu?.redis ?? r.infraCpu['redis-server'] ?? 0;
    const redisUs = (redisCores(best) * 1e6) / sentPerS;
    // What one more send costs Redis, between the first step and the best: its fixed work drops out.
    const first = slot.steps[0]!.result;
    const marginalUs = best === first ? undefined : ((redisCores(best) - redisCores(first)) * 1e6) / (sentPerS - first.sent / first.windowSeconds);
    out.push(
      `**Max sustained for one room: ${slot.maxSustained} msg/s** (ack p99 ${ms(best.ackMs.p99)} ms). ` +
        `At that rate Redis spent ${redisUs.toFixed(1)} µs of CPU per send, which puts one slot's ceiling at about ` +
        `${rate(1e6 / redisUs)} appends/s on one Redis core here` +
        (marginalUs === undefined || marginalUs <= 0
          ? '.'
          : `; one more send cost Redis ${marginalUs.toFixed(1)} µs between the first step and it (Redis's fixed work left out; CPU is read in 10 ms ticks, so this is rough), about ${rate(1e6 / marginalUs)} appends/s per core.`),
    );
  } else out.push('**No step was sustained.**');
  return out;
}

// --- chart ---------------------------------------------------------------------------------

const PANEL_W = 260;
const PANEL_H = 190;
const MARGIN = { left: 64, top: 34, right: 16, bottom: 40 };

function logBounds(values: number[]): [number, number] {
  const positive = values.filter((v) => v > 0);
  if (!positive.length) return [1, 10];
  return [10 ** Math.floor(Math.log10(Math.min(...positive))), 10 ** Math.ceil(Math.log10(Math.max(...positive)))];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function renderSvg(run: RunResult): string {
  const rates = [...new Set(run.scenarios.map((s) => s.rate))].sort((a, b) => a - b);
  const viewerCounts = [...new Set(run.scenarios.map((s) => s.viewers))].sort((a, b) => a - b);
  const targets = [...new Set(run.scenarios.map((s) => s.target))];
  const metrics: { title: string; unit: string; value: (s: ScenarioResult) => number | undefined }[] = [
    { title: 'e2e latency p99', unit: 'ms', value: (s) => s.latencyMs.p99 },
    { title: 'deliveries/s', unit: '/s', value: (s) => s.deliveriesPerSecond },
  ];
  const width = MARGIN.left + rates.length * (PANEL_W + MARGIN.left) + MARGIN.right;
  const height = 40 + metrics.length * (PANEL_H + MARGIN.top + MARGIN.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  targets.forEach((t, i) => {
    const x = MARGIN.left + i * 150;
    parts.push(`<rect x="${x}" y="12" width="14" height="4" fill="${COLOR[t]}"/><text x="${x + 20}" y="18">${esc(LABEL[t])}</text>`);
  });
  metrics.forEach((metric, row) => {
    const [lo, hi] = logBounds(run.scenarios.map((s) => metric.value(s) ?? 0));
    const top = 40 + row * (PANEL_H + MARGIN.top + MARGIN.bottom) + MARGIN.top;
    rates.forEach((r, col) => {
      const left = MARGIN.left + col * (PANEL_W + MARGIN.left);
      const xOf = (i: number) => left + (viewerCounts.length === 1 ? PANEL_W / 2 : (i / (viewerCounts.length - 1)) * PANEL_W);
      const yOf = (v: number) => top + PANEL_H - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * PANEL_H;
      parts.push(`<text x="${left}" y="${top - 10}" font-weight="bold">${esc(metric.title)} (${metric.unit}), ${r} msg/s</text>`);
      parts.push(`<rect x="${left}" y="${top}" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#999"/>`);
      for (let d = lo; d <= hi; d *= 10) {
        const y = yOf(d);
        parts.push(`<line x1="${left}" x2="${left + PANEL_W}" y1="${y}" y2="${y}" stroke="#eee"/>`);
        parts.push(`<text x="${left - 4}" y="${y + 4}" text-anchor="end">${metric.unit === 'ms' ? ms(d) : rate(d)}</text>`);
      }
      viewerCounts.forEach((v, i) => parts.push(`<text x="${xOf(i)}" y="${top + PANEL_H + 14}" text-anchor="middle">${rate(v)}</text>`));
      parts.push(`<text x="${left + PANEL_W / 2}" y="${top + PANEL_H + 28}" text-anchor="middle">viewers</text>`);
      for (const t of targets) {
        const points = viewerCounts
          .map((v, i) => {
            const s = find(run, t, v, r);
            const value = s && metric.value(s);
            return value ? `${xOf(i).toFixed(1)},${yOf(value).toFixed(1)}` : undefined;
          })
          .filter((p): p is string => p !== undefined);
        if (!points.length) continue;
        parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${COLOR[t]}" stroke-width="2"/>`);
        for (const p of points) {
          const [x, y] = p.split(',');
          parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="${COLOR[t]}"/>`);
        }
      }
    });
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
