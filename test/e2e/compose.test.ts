// deploy/compose.yaml, the one-machine stack of the README (Docker does not run here, so this
// reads the file as Compose would): every service of the image gets an environment its config
// schema accepts, they start after the migration one-shot and do not migrate themselves, Redis
// keeps an append-only file, NATS has JetStream, and Prometheus and Grafana get files that exist.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { envProblems, programOf } from '../support/deployment-env';

const deploy = path.resolve(__dirname, '../../deploy');
const compose = YAML.parse(fs.readFileSync(path.join(deploy, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, { command?: string[]; environment?: Record<string, string>; depends_on?: Record<string, { condition: string }>; volumes?: string[] }>;
};
const services = Object.entries(compose.services);
const ofImage = services.filter(([, s]) => programOf(s.command ?? []) !== undefined);

test('every service of the image gets an environment its config schema accepts', () => {
  expect(ofImage.map(([name]) => name).sort()).toEqual(['gateway', 'message-worker', 'migrate', 'moderation-worker', 'presence-worker']);
  const problems = ofImage.flatMap(([name, s]) => {
    const env = Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
    return envProblems(programOf(s.command!)!, env, Object.keys(env)).map((p) => `${name}: ${p}`);
  });
  expect(problems).toEqual([]);
});

test('the services start after the migration one-shot and do not migrate themselves', () => {
  for (const [name, s] of ofImage.filter(([n]) => n !== 'migrate')) {
    expect([name, s.depends_on?.migrate?.condition]).toEqual([name, 'service_completed_successfully']);
    if (name !== 'gateway') expect([name, s.environment?.RUN_MIGRATIONS]).toEqual([name, 'false']);
  }
});

test('Redis keeps an append-only file synced every second, NATS runs JetStream', () => {
  const redis = compose.services.redis!.command!.join(' ');
  expect(redis).toContain('--appendonly yes');
  expect(redis).toContain('--appendfsync everysec');
  expect(compose.services.nats!.command).toContain('--jetstream');
});

test("Prometheus scrapes every service's metrics port with the shipped rules; Grafana's files exist", () => {
  const checked = spawnSync('promtool', ['check', 'config', path.join(deploy, 'prometheus/prometheus.yml')], { encoding: 'utf8' });
  expect(`${checked.stdout}${checked.stderr}`).toMatch(/SUCCESS: 7 rules found/);
  expect(checked.status).toBe(0);
  const config = YAML.parse(fs.readFileSync(path.join(deploy, 'prometheus/prometheus.yml'), 'utf8'));
  const targets: string[] = config.scrape_configs.flatMap((c: any) => c.static_configs.flatMap((s: any) => s.targets));
  const expected = ofImage.filter(([n]) => n !== 'migrate').map(([name, s]) => `${name}:${s.environment!.METRICS_PORT}`);
  expect(targets.sort()).toEqual(expected.sort());
  for (const [name, s] of services) {
    for (const volume of s.volumes ?? []) {
      const source = volume.split(':')[0]!;
      if (source.startsWith('.')) expect([name, source, fs.existsSync(path.join(deploy, source))]).toEqual([name, source, true]);
    }
  }
});
