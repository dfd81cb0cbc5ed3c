// `pnpm bench`: runs every scenario (viewers × msg/s) against our system and the two baselines
// with the same generator, then writes bench/results/<time>.{json,md,svg} and bench/RESULTS.md.
// Every process it starts is stopped at the end, on failure and on Ctrl-C.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { measureHopCost } from './hop-cost';
import type { TargetName } from './ipc';
import { parseOptions, type BenchOptions, type Engines } from './options';
import { ProcessGroup } from './processes';
import { describeFanOutWarmUp, keepScenarioSections, mergeScenarioSection, renderMarkdown, renderSvg } from './report';
import { runRooms } from './rooms';
import { HEADLINE, SLOT_DEGRADED, type RoomsResult, type RunResult, type ScenarioResult, type SlotResult, type SlotStep } from './results';
import { GENERATOR_CORE, SERVER_CORE, Session } from './session';

const ROOT = path.resolve(__dirname, '../..');
/**
 * One process may hold 20,000 open files here and the limit cannot be raised. The bare uWS
 * baseline is one process (its topic publish does not cross processes), so it cannot take
 * more sockets than this; our gateways and the Socket.IO nodes split the viewers.
 */
const SINGLE_PROCESS_MAX_SOCKETS = 19_000;
/** What a repeat pair (ours and bare uWS at 10k viewers, each started afresh) is taken to last before one has run: 39–50 s here. */
const FIRST_PAIR_ESTIMATE_S = 45;

function preflight(options: BenchOptions): string {
  for (const file of ['services/gateway/dist/main.js', 'services/message-worker/dist/main.js', 'services/presence-worker/dist/main.js']) {
    if (options.targets.includes('ours') && !existsSync(path.join(ROOT, file))) throw new Error(`${file} is missing: run \`pnpm build\` first`);
  }
  if (!options.pin) return 'Not pinned (--no-pin): servers and generators share both cores.';
  if (os.cpus().length < 2) {
    options.pin = false;
    return 'Not pinned: this machine has one core.';
  }
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
  } catch {
    options.pin = false;
    return 'Not pinned: taskset is not available.';
  }
  return (
    `Pinned with taskset: the processes holding the sockets (our gateways, the uWS server, the Socket.IO nodes) on core ${SERVER_CORE}, ` +
    `the generator(s) on core ${GENERATOR_CORE}. Not pinned: our message and presence workers, and NATS, Redis and Postgres ` +
    `(shared system services) — the storage path the baselines do not have, on other machines in production.`
  );
}

function progressLine(s: ScenarioResult): string {
  const p99 = s.latencyMs.p99?.toFixed(1) ?? '–';
  const ack = s.ackMs.p99?.toFixed(1) ?? '–';
  return (
    `  ${s.target.padEnd(8)} ${String(s.viewers).padStart(6)} viewers × ${String(s.rate).padStart(4)} msg/s: ` +
    `delivered ${(s.fraction * 100).toFixed(1)}%, ${Math.round(s.deliveriesPerSecond)}/s of ${Math.round(s.offeredPerSecond)}/s, ` +
    `p99 ${p99} ms, ack p99 ${ack} ms${inside(s)}, generator ${s.generator.cpu.toFixed(2)} cores — limited by ${s.limitedBy}`
  );
}

/** Ours: the part of the ack's p99 spent inside the gateway and the message worker, and a delivery's age p99 when written. */
function inside(s: ScenarioResult): string {
  const t = s.serverTimings;
  const p99 = (q: { p99?: number }) => q.p99?.toFixed(1) ?? '–';
  return t ? ` (inside: gateway ${p99(t.gateway)}, message worker ${p99(t.worker)}; written by the gateway at p99 ${p99(t.fanOut)})` : '';
}

/**
 * All rates at one viewer count on one target; restarts the system when a scenario left a
 * backlog behind. Idle memory is the first session's: a repeat, like a restart, skips it.
 */
async function runViewerCount(target: TargetName, viewers: number, group: ProcessGroup, options: BenchOptions, repeat = false): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  let session: Session | undefined;
  let restarted = false;
  try {
    for (const [i, rate] of options.rates.entries()) {
      if (!session) {
        session = await Session.open(target, viewers, group, options, restarted, !restarted && !repeat);
        const c = session.connect;
        const w = session.warmUp;
        const f = session.fanOutWarmUp;
        console.log(
          `  ${target.padEnd(8)} ${String(viewers).padStart(6)} viewers: ${c.joined} joined in ${c.seconds.toFixed(2)} s${c.failed ? `, ${c.failed} failed: ${c.errors.join('; ')}` : ''}` +
            (w ? `, after a warm-up of ${w.acked}/${w.sent} sends acked (cold ack p99 ${w.ackMs.p99?.toFixed(1) ?? '–'} ms)` : '') +
            (f ? `; fan-out warm-up ${describeFanOutWarmUp(f)}` : ''),
        );
      }
      const result = await session.run(rate);
      results.push(result);
      console.log(progressLine(result));
      // A backlog would be measured as part of the next scenario: start that one afresh.
      if (!result.drained && i < options.rates.length - 1) {
        await session.close();
        session = undefined;
        restarted = true;
      }
    }
  } finally {
    await session?.close();
  }
  return results;
}

function degradation(step: ScenarioResult, first: ScenarioResult | undefined): string | undefined {
  const refused = Object.values(step.ackErrors).reduce((n, c) => n + c, 0);
  if (refused) return `${refused} sends refused`;
  if (step.acked < step.sent) return `${step.sent - step.acked} of ${step.sent} sends not acked ${step.sent ? 'in time' : ''}`.trim();
  const p99 = step.ackMs.p99 ?? Infinity;
  const base = first?.ackMs.p99 ?? p99;
  if (p99 > SLOT_DEGRADED.ackP99Ms && p99 > SLOT_DEGRADED.ackGrowth * base) return `ack p99 ${p99.toFixed(1)} ms (${(p99 / base).toFixed(1)}× the first step's)`;
  if (step.generator.saturated) return 'the generator saturated';
  return undefined;
}

/**
 * One room, one viewer, the send rate stepping up: every send is an append to the room's one
 * Redis slot. Stops at the first step that degrades; the one before it is the sustained rate.
 */
async function runSlot(group: ProcessGroup, options: BenchOptions, errors: string[]): Promise<SlotResult> {
  const steps: SlotStep[] = [];
  let session: Session | undefined;
  try {
    for (const rate of options.rates) {
      session ??= await Session.open('ours', options.viewers[0]!, group, options, steps.length > 0, false);
      const result = await session.run(rate);
      const degraded = degradation(result, steps[0]?.result);
      steps.push({ rate, result, ...(degraded ? { degraded } : {}) });
      console.log(`${progressLine(result)}${degraded ? ` — degraded: ${degraded}` : ''}`);
      if (degraded) break;
      // A backlog would be measured as part of the next step.
      if (!result.drained) {
        await session.close();
        session = undefined;
      }
    }
  } catch (err) {
    errors.push(`slot: ${(err as Error).message}`);
    console.error(`  FAILED ${errors.at(-1)}`);
    await group.stopAll();
  } finally {
    await session?.close();
  }
  const sustained = steps.filter((s) => !s.degraded).map((s) => s.rate);
  return { steps, ...(sustained.length ? { maxSustained: Math.max(...sustained) } : {}) };
}

function roomsProgressLine(r: RoomsResult): string {
  const p = (v: number | undefined) => v?.toFixed(1) ?? '–';
  return (
    `  ${r.target.padEnd(8)} rooms: ${r.sockets - r.connect.failed} of ${r.sockets} sockets joined in ${r.connect.seconds.toFixed(1)} s; ` +
    `delivered ${(r.fraction * 100).toFixed(1)}%, ${Math.round(r.deliveriesPerSecond)}/s; live e2e p99 ${p(r.live.latencyMs.p99)} ms, ack p99 ${p(r.live.ackMs.p99)} ms; ` +
    `private e2e p99 ${p(r.private.latencyMs.p99)} ms, ack p99 ${p(r.private.ackMs.p99)} ms${r.outOfOrder ? `; ${r.outOfOrder} out of order` : ''}`
  );
}

/** runViewerCount, with a failure recorded in `errors` instead of ending the run. */
async function attempt(target: TargetName, viewers: number, group: ProcessGroup, options: BenchOptions, errors: string[], repeat = false): Promise<ScenarioResult[]> {
  try {
    return await runViewerCount(target, viewers, group, options, repeat);
  } catch (err) {
    const message = `${target} at ${viewers} viewers${options.engines === 'shared' ? '' : ` on ${options.engines} engines`}${repeat ? ' (repeat)' : ''}: ${(err as Error).message}`;
    errors.push(message);
    console.error(`  FAILED ${message}`);
    // A system that failed half-started must not load the machine under the next one.
    await group.stopAll();
    return [];
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const started = new Date();
  const runSeconds = () => (Date.now() - started.getTime()) / 1000;
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const outDir = path.resolve(ROOT, options.out);
  const logDir = path.join(outDir, `${stamp}-logs`);
  mkdirSync(logDir, { recursive: true });
  const pinning = preflight(options);
  const group = new ProcessGroup(logDir, options.pin, options.profile ? logDir : undefined);
  const stopEverything = (signal: string) => {
    console.error(`\n${signal}: stopping the ${group.running} processes the bench started`);
    void group.stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', stopEverything);
  process.once('SIGTERM', stopEverything);
  // An exit nothing above saw coming — `pnpm bench | head` closing stdout under a console.log —
  // would leave servers and generators running, holding ports and cores.
  process.once('exit', () => group.killAllNow());

  console.log(`${pinning}\nLogs of every process: ${path.relative(ROOT, logDir)}`);
  const loadavgAtStart = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const hopCost = await measureHopCost(group);
  console.log(
    `One hop (100-byte loopback TCP round trip between two processes): p50 ${hopCost.p50Us.toFixed(0)} µs, p99 ${hopCost.p99Us.toFixed(0)} µs; ` +
      `a NATS request/reply: p50 ${hopCost.natsP50Us.toFixed(0)} µs, p99 ${hopCost.natsP99Us.toFixed(0)} µs`,
  );
  const scenarios: ScenarioResult[] = [];
  const repeats: ScenarioResult[] = [];
  const durabilityRuns: ScenarioResult[] = [];
  const wordListRuns: ScenarioResult[] = [];
  const embeddedRuns: ScenarioResult[] = [];
  const rooms: RoomsResult[] = [];
  const clusterRuns: ScenarioResult[] = [];
  let slot: SlotResult | undefined;
  const errors: string[] = [];
  const skipped: string[] = [];
  try {
    if (options.scenario === 'live') {
      for (const viewers of options.viewers) {
        for (const target of options.targets) {
          if (target === 'uws' && viewers + options.chatters > SINGLE_PROCESS_MAX_SOCKETS) {
            skipped.push(`bare uWS at ${viewers} viewers: one process cannot hold more than 20,000 open files here`);
            console.log(`  ${target.padEnd(8)} ${String(viewers).padStart(6)} viewers: skipped (${skipped.at(-1)})`);
            continue;
          }
          scenarios.push(...(await attempt(target, viewers, group, options, errors)));
        }
      }
      const { viewers, rate } = HEADLINE;
      if (options.viewers.includes(viewers) && options.rates.includes(rate) && (['ours', 'uws'] as const).every((t) => options.targets.includes(t))) {
        let pairSeconds = FIRST_PAIR_ESTIMATE_S;
        for (let pair = 1; pair <= options.repeats; pair++) {
          const elapsed = runSeconds();
          // Pairs run while the run stays within its time, the first one included (docs/decisions/0018).
          if (elapsed + pairSeconds > options.budget) {
            console.log(`  repeat ${pair} of ${options.repeats}: skipped, ${elapsed.toFixed(0)} s + ${pairSeconds.toFixed(0)} s would pass --budget ${options.budget} s`);
            break;
          }
          // The main run measured ours first; the repeats take turns, uWS first in the first, so
          // that neither always follows the other.
          const order: TargetName[] = pair % 2 ? ['uws', 'ours'] : ['ours', 'uws'];
          console.log(`  repeat ${pair} of ${options.repeats}: ${viewers} viewers × ${rate} msg/s, ${order[0] === 'uws' ? 'bare uWS' : 'ours'} first`);
          const pairStarted = Date.now();
          const measured = new Map<TargetName, ScenarioResult[]>();
          for (const target of order) measured.set(target, await attempt(target, viewers, group, { ...options, rates: [rate] }, errors, true));
          const [uws, ours] = [measured.get('uws')!, measured.get('ours')!];
          // Half a pair (the other half failed, in `errors`) would be paired with the next repeat's.
          if (uws.length && ours.length) repeats.push(...uws, ...ours);
          pairSeconds = (Date.now() - pairStarted) / 1000;
        }
      }
      if (options.targets.includes('ours')) {
        for (const durability of options.durability.slice(1)) {
          console.log(`  ours again with ACK_DURABILITY=${durability}`);
          for (const viewers of options.viewers) durabilityRuns.push(...(await attempt('ours', viewers, group, { ...options, durability: [durability] }, errors)));
        }
        for (const terms of options.wordList.slice(1)) {
          console.log(`  ours again with a deployment word list of ${terms} terms`);
          for (const viewers of options.viewers) wordListRuns.push(...(await attempt('ours', viewers, group, { ...options, wordList: [terms] }, errors)));
        }
        if (options.embedded) {
          console.log('  ours again as the embedded system (one process, no servers)');
          for (const viewers of options.viewers) embeddedRuns.push(...(await attempt('ours', viewers, group, { ...options, system: 'embedded', gateways: 1 }, errors)));
        }
      }
    } else if (options.scenario === 'rooms') {
      for (const target of options.targets) {
        try {
          const result = await runRooms(target, group, options);
          rooms.push(result);
          console.log(roomsProgressLine(result));
        } catch (err) {
          errors.push(`${target}, rooms: ${(err as Error).message}`);
          console.error(`  FAILED ${errors.at(-1)}`);
          await group.stopAll();
        }
      }
    } else if (options.scenario === 'cluster') {
      // The same scenario on single engines and on clustered ones: the ratio is the overhead of
      // distributing them. Pairs take turns at going first, and the report takes the median of
      // their ratios: one pair on this shared machine follows its noise as much as the engines.
      for (const viewers of options.viewers) {
        for (let pair = 0; pair <= options.repeats; pair++) {
          const order: Engines[] = pair % 2 ? ['cluster', 'single'] : ['single', 'cluster'];
          const measured = new Map<Engines, ScenarioResult[]>();
          for (const engines of order) {
            console.log(
              `  pair ${pair + 1} of ${options.repeats + 1}: ours on ${engines === 'cluster' ? 'a 3-node NATS cluster and a 3-master Redis Cluster' : 'one NATS server and one Redis'}`,
            );
            measured.set(engines, await attempt('ours', viewers, group, { ...options, engines }, errors, pair > 0));
          }
          const [single, cluster] = [measured.get('single')!, measured.get('cluster')!];
          // Half a pair (the other half failed, in `errors`) has nothing to be compared with.
          if (single.length && single.length === cluster.length) {
            scenarios.push(...single);
            clusterRuns.push(...cluster);
          }
        }
      }
    } else slot = await runSlot(group, options, errors);
  } finally {
    await group.stopAll();
  }

  const run: RunResult = {
    scenario: options.scenario,
    startedAt: started.toISOString(),
    command: `pnpm bench${argv.length ? ` ${argv.join(' ')}` : ''}`,
    machine: { cpus: os.cpus().length, node: process.version, loadavgAtStart, hopCost },
    pinning,
    options: { ...options },
    scenarios,
    repeats,
    durabilityRuns,
    wordListRuns,
    embeddedRuns,
    ...(options.scenario === 'rooms' ? { rooms } : {}),
    ...(options.scenario === 'cluster' ? { clusterRuns } : {}),
    ...(slot ? { slot } : {}),
    skipped,
    errors,
    durationSeconds: runSeconds(),
  };
  const base = path.join(outDir, stamp);
  const live = options.scenario === 'live';
  writeFileSync(`${base}.json`, JSON.stringify(run, null, 2));
  if (live) writeFileSync(`${base}.svg`, renderSvg(run));
  const markdown = renderMarkdown(run, `${stamp}.svg`);
  writeFileSync(`${base}.md`, markdown);
  console.log(`\n${markdown}`);
  const measured = scenarios.length || rooms.length || clusterRuns.length || slot?.steps.length;
  const resultsFile = path.join(ROOT, 'bench/RESULTS.md');
  const published = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '';
  if (options.publish && measured) {
    // The live scenario rewrites the headline and keeps the other scenarios' sections; another scenario merges its own section in.
    if (live) writeFileSync(path.join(ROOT, 'bench/RESULTS.svg'), renderSvg(run));
    writeFileSync(resultsFile, live ? keepScenarioSections(renderMarkdown(run, 'RESULTS.svg'), published) : mergeScenarioSection(published, run));
  }
  console.log(
    `Wrote ${path.relative(ROOT, base)}.{json,md${live ? ',svg' : ''}}${options.publish && measured ? ` and bench/RESULTS.${live ? '{md,svg}' : 'md'}` : ''} in ${run.durationSeconds.toFixed(0)} s.`,
  );
  if (errors.length) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? err);
  process.exit(1);
});
