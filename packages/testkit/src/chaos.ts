// One fault experiment from start to verdict: start the topology on the file's private servers,
// run traffic, let the test apply its fault, stop the traffic, wait for the viewers and the
// persister, judge (chaos-verify.ts) and print the experiment's one-line figure (also appended
// as JSON to the file named by CHAOS_FIGURES, when set, to build the README's table from).
import { appendFileSync } from 'node:fs';
import { roomKey } from '@lomi/protocol';
import { ChaosClient, type ViewerLog } from './chaos-client';
import { drained, settle, type StoredRow } from './chaos-settle';
import { figureLine, verify, type Verdict } from './chaos-verify';
import { startTopology, type ChaosServers, type Topology, type TopologyOptions } from './topology';
import { startTraffic, type Traffic, type TrafficOptions } from './traffic';

export interface ExperimentOptions {
  topology?: TopologyOptions;
  traffic?: TrafficOptions;
  /** Acked messages before the fault, and again after it before the traffic stops. */
  acksAround?: number;
}

export interface Experiment {
  topology: Topology;
  traffic: Traffic;
  servers: ChaosServers;
  /** Call when the fault is undone: heal time counts from here. */
  faultEnded(): void;
  /** Facts the experiment found wrong on its own (a join that never succeeded, a crashed service). */
  problems: string[];
  /** Extra text for the figure line. */
  notes: string[];
}

export interface Outcome {
  verdict: Verdict;
  line: string;
  /** Every stored message of the experiment's rooms once the persister drained. */
  rows: StoredRow[];
  /** The violations, one line each; empty when the experiment passed. Loss is left out when `allowLoss`. */
  failures(options?: { allowLoss?: boolean }): string[];
}

/** Runs `fault` against live traffic and returns the verdict (the caller asserts on it). */
export async function runExperiment(name: string, servers: ChaosServers, options: ExperimentOptions, fault: (x: Experiment) => Promise<void>): Promise<Outcome> {
  const topology = await startTopology(servers, options.topology);
  let traffic: Traffic | undefined;
  try {
    traffic = await startTraffic(topology, options.traffic);
    let faultEndedAt: number | undefined;
    const x: Experiment = { topology, traffic, servers, faultEnded: () => (faultEndedAt = performance.now()), problems: [], notes: [] };
    const around = options.acksAround ?? 40;
    await traffic.waitForAcks(around);
    await fault(x);
    faultEndedAt ??= performance.now();
    await traffic.waitForAcks(around, 20_000).catch((err: Error) => x.problems.push(`traffic did not resume after the fault: ${err.message}`));
    await traffic.stop();
    const viewers: ViewerLog[] = traffic.viewers;
    await settle(traffic.acks, viewers, () => traffic!.clients.some((c) => c.reconnecting));
    await Promise.all(traffic.clients.map((c) => c.reloadsDone()));
    const rows = await drained(servers.db, topology.env.REDIS_URL!, topology.namespace, traffic.rooms, traffic.acks);
    const verdict = verify(traffic.acks, viewers, rows, faultEndedAt);
    const line = figureLine(name, verdict.figures, x.notes.join(', '));
    console.log(line);
    if (process.env.CHAOS_FIGURES) appendFileSync(process.env.CHAOS_FIGURES, `${JSON.stringify({ experiment: name, ...verdict.figures })}\n`);
    const context = contextOf(traffic, topology);
    return {
      verdict,
      line,
      rows,
      failures({ allowLoss = false } = {}) {
        const { figures: f, examples: e } = verdict;
        const out = [...x.problems];
        if (f.lost > 0 && !allowLoss) out.push(`lost ${f.lost} acked messages: ${e.lost.join('; ')}`);
        if (f.duplicated > 0) out.push(`duplicated ${f.duplicated}: ${e.duplicated.join('; ')}`);
        if (f.reusedSeqs > 0) out.push(`reused ${f.reusedSeqs} seqs: ${e.reused.join('; ')}`);
        if (f.gaps > 0) out.push(`${f.gaps} unexplained gaps: ${e.gaps.join('; ')}`);
        if (out.length > 0) out.push(`context: ${context}`);
        return out;
      },
    };
  } finally {
    await traffic?.close();
    await topology.stop();
  }
}

/**
 * Each room's history epoch as a new join sees it now, next to the one its viewers first joined
 * in; one line for each room whose epoch is still the same.
 */
export async function unchangedEpochs({ topology, traffic }: Experiment): Promise<string[]> {
  const unchanged: string[] = [];
  for (const room of traffic.rooms) {
    const first = traffic.viewers.find((v) => v.key === roomKey(room))!;
    const probe = await ChaosClient.connect(
      topology,
      first.viewer,
      topology.gateways.findIndex((g) => g.running),
    );
    try {
      const now = await probe.join(room);
      if (now.epoch === first.epoch) unchanged.push(`${first.key} still in epoch ${now.epoch} (top seq ${now.joinTop})`);
    } finally {
      await probe.close();
    }
  }
  return unchanged;
}

/** What the clients went through, for a failure message. */
function contextOf(traffic: Traffic, topology: Topology): string {
  const errors = new Map<string, number>();
  for (const c of traffic.clients) for (const e of c.errors) errors.set(e, (errors.get(e) ?? 0) + 1);
  const crashed = topology.services.filter((s) => !s.running).map((s) => s.name);
  return `${traffic.summary()}; client errors: ${JSON.stringify(Object.fromEntries([...errors].slice(0, 5)))}; not running at the end: ${crashed.join(', ') || 'none'}`;
}
