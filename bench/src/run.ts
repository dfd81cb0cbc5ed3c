// `pnpm bench`: runs every scenario (viewers × msg/s) against our system and the two baselines
// with the same generator, then writes bench/results/<time>.{json,md,svg} and bench/RESULTS.md.
// Every process it starts is stopped at the end, on failure and on Ctrl-C.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { measureHopCost } from './hop-cost';
import type { TargetName } from './ipc';
import { parseOptions, type BenchOptions } from './options';
import { ProcessGroup } from './processes';
import { describeFanOutWarmUp, renderMarkdown, renderSvg } from './report';
import { HEADLINE, type RunResult, type ScenarioResult } from './results';
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

/** runViewerCount, with a failure recorded in `errors` instead of ending the run. */
async function attempt(target: TargetName, viewers: number, group: ProcessGroup, options: BenchOptions, errors: string[], repeat = false): Promise<ScenarioResult[]> {
  try {
    return await runViewerCount(target, viewers, group, options, repeat);
  } catch (err) {
    const message = `${target} at ${viewers} viewers${repeat ? ' (repeat)' : ''}: ${(err as Error).message}`;
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
  const loadavgAtStart = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const hopCost = await measureHopCost(group);
  console.log(
    `One hop (100-byte loopback TCP round trip between two processes): p50 ${hopCost.p50Us.toFixed(0)} µs, p99 ${hopCost.p99Us.toFixed(0)} µs; ` +
      `a NATS request/reply: p50 ${hopCost.natsP50Us.toFixed(0)} µs, p99 ${hopCost.natsP99Us.toFixed(0)} µs`,
  );
  const scenarios: ScenarioResult[] = [];
  const repeats: ScenarioResult[] = [];
  const durabilityRuns: ScenarioResult[] = [];
  const wordListRuns: ScenarioResult[] = [];
  const errors: string[] = [];
  const skipped: string[] = [];
  try {
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
        // Pairs run while the run stays within its time (a median of three pairs shrugs off one
        // odd minute, which the mean of two does not). The first pair is judged too: on a slow
        // afternoon the one pair that always ran took the run to 634 s.
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
    }
  } finally {
    await group.stopAll();
  }

  const run: RunResult = {
    startedAt: started.toISOString(),
    command: `pnpm bench${argv.length ? ` ${argv.join(' ')}` : ''}`,
    machine: { cpus: os.cpus().length, node: process.version, loadavgAtStart, hopCost },
    pinning,
    options: { ...options },
    scenarios,
    repeats,
    durabilityRuns,
    wordListRuns,
    skipped,
    errors,
    durationSeconds: runSeconds(),
  };
  const base = path.join(outDir, stamp);
  writeFileSync(`${base}.json`, JSON.stringify(run, null, 2));
  writeFileSync(`${base}.svg`, renderSvg(run));
  const markdown = renderMarkdown(run, `${stamp}.svg`);
  writeFileSync(`${base}.md`, markdown);
  console.log(`\n${markdown}`);
  if (options.publish && scenarios.length) {
    writeFileSync(path.join(ROOT, 'bench/RESULTS.svg'), renderSvg(run));
    writeFileSync(path.join(ROOT, 'bench/RESULTS.md'), renderMarkdown(run, 'RESULTS.svg'));
  }
  console.log(
    `Wrote ${path.relative(ROOT, base)}.{json,md,svg}${options.publish && scenarios.length ? ' and bench/RESULTS.{md,svg}' : ''} in ${run.durationSeconds.toFixed(0)} s.`,
  );
  if (errors.length) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? err);
  process.exit(1);
});
