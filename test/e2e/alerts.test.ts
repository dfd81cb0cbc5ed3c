// The Prometheus alert rules in deploy/prometheus are valid and do what their unit tests say
// (an alert when the persister sets messages aside, none for a worker restart; a growing backlog,
// slow acks, slow-consumer storms, a full buffer budget, unrecoverable gaps, a dependency down),
// checked by promtool itself; .ci/run installs it (Debian package prometheus).
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const dir = path.join(__dirname, '../..', 'deploy', 'prometheus');

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
  if (run.error) throw new Error(`promtool could not run (apt-get install prometheus): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test('alerts.yml is a valid rule file', () => {
  const { status, output } = promtool('check', 'rules', 'alerts.yml');
  expect(output).toMatch(/SUCCESS: 7 rules found/);
  expect(status).toBe(0);
});

test('alerts.yml passes its unit tests (alerts.test.yml)', () => {
  const { status, output } = promtool('test', 'rules', 'alerts.test.yml');
  expect(output).toMatch(/SUCCESS/);
  expect(status).toBe(0);
});
