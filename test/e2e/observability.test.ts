// What on-call sees, proven against a real Prometheus (Debian's prometheus package, which .ci/run
// installs) scraping a running system: the alert rules load, every query of the Grafana
// dashboard returns data once the system has had some traffic, and LomiDependencyDown fires when
// the workers' Redis goes away (its `for:` shortened to seconds here, the rule otherwise as shipped).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { ErrorCode, LomiError } from '@lomi/client';
import { freePort, Reaper, startRedisServer, type RedisServer } from '@lomi/testkit';
import { startSystem, type TestSystem } from '../support/system';

const repo = path.resolve(__dirname, '../..');
const PROMETHEUS = '/usr/bin/prometheus';
const RATE_WINDOW = '1m';

let redis: RedisServer;
let system: TestSystem;
let prometheus: ChildProcess | undefined;
let reaper: Reaper | undefined;
let api = '';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lomi-prom-'));

async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

/** Polls `check` every 500 ms until it returns true or `timeoutMs` passed; returns its last answer. */
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

beforeAll(async () => {
  redis = await startRedisServer();
  // A live-room rate limit low enough for one test viewer to hit: RATE_LIMITED is a panel too.
  system = await startSystem({ gateways: 1, messageWorkers: 1, env: { REDIS_URL: redis.url, LIVE_RATE_PER_S: '1', LIVE_RATE_BURST: '2' } });
  const targets = [
    ...system.gateways.map((g) => g.metricsPort),
    ...[...system.workers, ...system.presenceWorkers, ...system.moderationWorkers].map((w) => w.metricsPort),
  ].map((port) => `127.0.0.1:${port}`);

  // The shipped rules, with LomiDependencyDown's minute shortened to seconds.
  const rules = YAML.parse(fs.readFileSync(path.join(repo, 'deploy/prometheus/alerts.yml'), 'utf8'));
  for (const group of rules.groups) for (const rule of group.rules) if (rule.alert === 'LomiDependencyDown') rule.for = '2s';
  fs.writeFileSync(path.join(dir, 'rules.yml'), YAML.stringify(rules));
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    YAML.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: ['rules.yml'],
      scrape_configs: [{ job_name: 'lomi', static_configs: [{ targets }] }],
    }),
  );
  const checked = spawnSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { encoding: 'utf8' });
  if (checked.status !== 0) throw new Error(`promtool check config:\n${checked.stdout}${checked.stderr}`);

  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    PROMETHEUS,
    [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: 'ignore' },
  );
  reaper = new Reaper('', 'SIGKILL');
  reaper.tell(prometheus.pid!);
  const ready = await until(async () => (await fetch(`${api}/-/ready`).catch(() => undefined))?.status === 200, 20_000);
  if (!ready) throw new Error(`Prometheus did not get ready at ${api}`);
}, 60_000);

afterAll(async () => {
  prometheus?.kill('SIGKILL');
  reaper?.dispose();
  if (redis && !redis.running) await redis.start();
  await system?.stop();
  await redis?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Every query of the dashboard, its variables as Grafana substitutes them for "All". */
function dashboardQueries(): { panel: string; expr: string }[] {
  const dashboard = JSON.parse(fs.readFileSync(path.join(repo, 'deploy/grafana/dashboards/lomi-chat.json'), 'utf8'));
  return dashboard.panels.flatMap((panel: { title: string; targets?: { expr: string }[] }) =>
    (panel.targets ?? []).map((t) => ({
      panel: panel.title,
      expr: t.expr.replaceAll('$__rate_interval', RATE_WINDOW).replaceAll('$job', '.*'),
    })),
  );
}

test('the rules load, and every dashboard query returns data from the running system', async () => {
  const loaded = (await (await fetch(`${api}/api/v1/rules`)).json()) as { data: { groups: { rules: unknown[] }[] } };
  expect(loaded.data.groups.flatMap((g) => g.rules)).toHaveLength(7);

  // Traffic: a broadcaster and viewers in a live room, one viewer over the rate limit.
  const room = await system.createLiveRoom('obs-host');
  const host = await system.connect('obs-host');
  const viewers = await Promise.all(['obs-a', 'obs-b', 'obs-c'].map((v) => system.connect(v)));
  await Promise.all([host, ...viewers].map((c) => c.join(room)));
  // Sends go on while Prometheus is asked: a rate needs increases between two of its scrapes.
  let sending = true;
  const chatter = (async () => {
    for (let i = 0; sending; i++) {
      await host.send(room, `hello ${i}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const limited = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => viewers[0]!.send(room, `spam ${i}`)));
  expect(limited.some((o) => o.status === 'rejected' && (o.reason as LomiError).code === ErrorCode.ERROR_CODE_RATE_LIMITED)).toBe(true);

  const queries = dashboardQueries();
  expect(queries.length).toBeGreaterThan(20);
  const empty = async () => {
    const missing: string[] = [];
    for (const { panel, expr } of queries) {
      const result = await query(expr);
      if (!result.some((r) => Number.isFinite(Number(r.value[1])))) missing.push(`${panel}: ${expr}`);
    }
    return missing;
  };
  let missing: string[] = [];
  await until(async () => (missing = await empty()).length === 0, 20_000);
  sending = false;
  await chatter;
  expect(missing).toEqual([]);
  // The outcome of a refused send is its error code, apart from errors of our own.
  const outcomes = await query('sum by (command, outcome) (lomi_gateway_commands_total)');
  expect(outcomes.map((r) => `${r.metric.command} ${r.metric.outcome}`)).toEqual(expect.arrayContaining(['send ok', 'send RATE_LIMITED']));
  await Promise.all([host, ...viewers].map((c) => c.close()));
}, 60_000);

test('LomiDependencyDown fires for every worker when their Redis stops, and clears when it is back', async () => {
  await redis.stop();
  const firing = async () => {
    const alerts = (await (await fetch(`${api}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
    return alerts.data.alerts.filter((a) => a.labels.alertname === 'LomiDependencyDown' && a.state === 'firing').map((a) => `${a.labels.service} ${a.labels.dependency}`);
  };
  let services: string[] = [];
  await until(async () => (services = await firing()).length === 3, 20_000);
  expect(services.sort()).toEqual(['message-worker redis', 'moderation-worker redis', 'presence-worker redis']);

  await redis.start();
  await until(async () => (await firing()).length === 0, 20_000);
  expect(await firing()).toEqual([]);
}, 60_000);
