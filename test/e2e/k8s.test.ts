// The Kubernetes manifests an operator applies: both overlays render (`kubectl kustomize`, as
// `kubectl apply -k` does; .ci/run installs kubectl), every object is valid against the
// Kubernetes schemas (kubernetes-models, and the prometheus-operator's for its kinds), and every
// container's environment is one its service accepts: its own config schema parses it, with
// random values for the Secret that production keeps out of the repository. Then what an operator
// relies on: drains that fit the grace periods, budgets, probes, a locked-down runtime, migrations
// in one Job, no credentials committed for production, alert rules equal to deploy/prometheus.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { envProblems, programOf } from '../support/deployment-env';

const repo = path.resolve(__dirname, '../..');

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [key: string]: any };

function render(overlay: string): K8sObject[] {
  const run = spawnSync('kubectl', ['kustomize', path.join(repo, 'k8s/overlays', overlay)], { encoding: 'utf8' });
  if (run.error) throw new Error(`kubectl could not run (.ci/run installs it): ${run.error.message}`);
  if (run.status !== 0) throw new Error(`kubectl kustomize k8s/overlays/${overlay} failed:\n${run.stderr}`);
  return YAML.parseAllDocuments(run.stdout).map((d) => d.toJS() as K8sObject);
}

/** The kubernetes-models class of an object's kind, which validates it against the API's schema. */
function modelOf(o: K8sObject): { new (data: unknown): { validate(): void } } {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const module =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}/${o.kind}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the model's module is named by the manifest
  return (require(module) as Record<string, never>)[o.kind]!;
}

const overlays = { dev: render('dev'), prod: render('prod') };
const find = (objects: K8sObject[], kind: string, name?: string) => objects.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
const workloads = (objects: K8sObject[]) => [...find(objects, 'Deployment'), ...find(objects, 'Job')];

/** Stand-ins for the production Secret's keys: fresh random values, URLs with a password. */
function productionSecrets(): Record<string, string> {
  const secret = () => randomBytes(24).toString('base64url');
  return {
    NATS_URL: `nats://lomi:${secret()}@nats.lomi-infra:4222`,
    REDIS_URL: `redis://:${secret()}@redis.lomi-infra:6379`,
    DATABASE_URL: `postgres://lomi:${secret()}@postgres.lomi-infra:5432/lomi`,
    JWT_SECRET: secret(),
    SERVICE_TOKEN: secret(),
    OFFLINE_WEBHOOK_SECRET: secret(),
  };
}

/** A container's environment as the kubelet would give it, from the rendered ConfigMaps and Secrets. */
function containerEnv(objects: K8sObject[], container: any, fallbackSecret: Record<string, string>): Record<string, string> {
  const data = (kind: string, name: string): Record<string, string> => {
    const object = find(objects, kind, name)[0];
    if (!object) return kind === 'Secret' ? fallbackSecret : {};
    if (kind === 'ConfigMap') return object.data ?? {};
    return Object.fromEntries(Object.entries<string>(object.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  };
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    Object.assign(env, from.configMapRef ? data('ConfigMap', from.configMapRef.name) : data('Secret', from.secretRef.name));
  }
  for (const { name, value, valueFrom } of container.env ?? []) {
    if (value !== undefined) env[name] = value;
    else if (valueFrom?.secretKeyRef) env[name] = data('Secret', valueFrom.secretKeyRef.name)[valueFrom.secretKeyRef.key]!;
    else if (valueFrom?.configMapKeyRef) env[name] = data('ConfigMap', valueFrom.configMapKeyRef.name)[valueFrom.configMapKeyRef.key]!;
  }
  return env;
}

describe.each(Object.keys(overlays) as (keyof typeof overlays)[])('k8s/overlays/%s', (overlay) => {
  const objects = overlays[overlay];

  test('every object is valid against the Kubernetes (and prometheus-operator) schemas', () => {
    const invalid: string[] = [];
    for (const o of objects) {
      try {
        new (modelOf(o))(o).validate();
      } catch (err) {
        invalid.push(`${o.kind}/${o.metadata.name}: ${(err as Error).message}`);
      }
    }
    expect(invalid).toEqual([]);
    expect(
      find(objects, 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['lomi-gateway', 'lomi-message-worker', 'lomi-moderation-worker', 'lomi-presence-worker']);
    for (const kind of ['Job', 'HorizontalPodAutoscaler', 'ServiceMonitor', 'PrometheusRule', 'ServiceAccount']) {
      expect([kind, find(objects, kind).length]).toEqual([kind, 1]);
    }
  });

  test("every container's environment is accepted by its service's config schema", () => {
    const secrets = productionSecrets();
    const problems: string[] = [];
    for (const workload of workloads(objects)) {
      for (const container of workload.spec.template.spec.containers) {
        const program = programOf(container.command ?? []);
        if (!program) {
          problems.push(`${workload.metadata.name}: command ${JSON.stringify(container.command)} runs no service of the image`);
          continue;
        }
        const env = containerEnv(objects, container, secrets);
        const named = (container.env ?? []).map((e: { name: string }) => e.name);
        problems.push(...envProblems(program, env, named).map((p) => `${workload.metadata.name}: ${p}`));
      }
    }
    expect(problems).toEqual([]);
  });

  test('drains fit the grace periods; budgets, probes and a locked-down runtime for every service', () => {
    for (const deployment of find(objects, 'Deployment')) {
      const name = deployment.metadata.name;
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      const env = Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value]));
      const preStopS = Number(container.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
      // What the service spends after SIGTERM before it exits, plus the preStop, must fit.
      const drainMs =
        name === 'lomi-gateway' ? Number(env.DRAIN_DELAY_MS) + Number(env.DRAIN_WINDOW_MS) : name === 'lomi-message-worker' ? Number(env.PERSIST_FLUSH_MS) : 0;
      expect([name, pod.terminationGracePeriodSeconds * 1000 > preStopS * 1000 + drainMs + 5000]).toEqual([name, true]);
      if (name === 'lomi-gateway') {
        expect(preStopS).toBeGreaterThan(0);
        expect(drainMs).toBeGreaterThan(0);
        expect(deployment.spec.replicas).toBeUndefined(); // the HPA owns them
      } else {
        expect([name, env.RUN_MIGRATIONS]).toEqual([name, 'false']);
      }
      const budgets = find(objects, 'PodDisruptionBudget').filter((b) => b.spec.selector.matchLabels.app === deployment.spec.selector.matchLabels.app);
      expect([name, budgets.length]).toEqual([name, 1]);
      expect([name, container.startupProbe.httpGet.path, container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path]).toEqual([
        name,
        '/healthz',
        '/readyz',
        '/healthz',
      ]);
      expect([container.readinessProbe.httpGet.port, container.ports.find((p: any) => p.name === 'metrics').containerPort]).toEqual([
        'metrics',
        Number(env.METRICS_PORT),
      ]);
      expect(pod.topologySpreadConstraints.length).toBeGreaterThan(0);
      expect(container.resources.requests.cpu).toBeDefined();
      expect(container.resources.limits.memory).toBeDefined();
    }
    for (const workload of workloads(objects)) {
      const pod = workload.spec.template.spec;
      expect([workload.metadata.name, pod.serviceAccountName, pod.automountServiceAccountToken, pod.securityContext.runAsNonRoot]).toEqual([
        workload.metadata.name,
        'lomi-chat',
        false,
        true,
      ]);
      for (const container of pod.containers) {
        expect([workload.metadata.name, container.securityContext]).toEqual([
          workload.metadata.name,
          { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        ]);
      }
    }
  });

  test('the gateway HPA scales on CPU and on the sockets per pod that the Prometheus adapter serves, and scales down slowly', () => {
    const [hpa] = find(objects, 'HorizontalPodAutoscaler');
    expect(hpa!.spec.scaleTargetRef.name).toBe('lomi-gateway');
    const adapter = YAML.parse(fs.readFileSync(path.join(repo, 'k8s/prometheus-adapter-values.yaml'), 'utf8'));
    const served = adapter.rules.custom.map((r: any) => r.name.as);
    const podsMetrics = hpa!.spec.metrics.filter((m: any) => m.type === 'Pods').map((m: any) => m.pods.metric.name);
    expect(podsMetrics).toEqual(['lomi_gateway_connections']);
    expect(served).toEqual(expect.arrayContaining(podsMetrics));
    expect(hpa!.spec.metrics.some((m: any) => m.type === 'Resource' && m.resource.name === 'cpu')).toBe(true);
    // At most one gateway drained per period, each period longer than a drain.
    const gateway = find(objects, 'Deployment', 'lomi-gateway')[0]!;
    const [policy] = hpa!.spec.behavior.scaleDown.policies;
    expect(policy).toMatchObject({ type: 'Pods', value: 1 });
    expect(policy.periodSeconds).toBeGreaterThan(gateway.spec.template.spec.terminationGracePeriodSeconds);
  });

  test('the PrometheusRule holds exactly the rules of deploy/prometheus/alerts.yml', () => {
    const rules = YAML.parse(fs.readFileSync(path.join(repo, 'deploy/prometheus/alerts.yml'), 'utf8'));
    expect(find(objects, 'PrometheusRule')[0]!.spec.groups).toEqual(rules.groups);
  });
});

test('production commits no credentials and refuses the development ones; development runs with them', () => {
  const prod = overlays.prod;
  expect(find(prod, 'Secret')).toEqual([]);
  expect(find(prod, 'ConfigMap')[0]!.data.LOMI_ENV).toBe('production');
  // The development Secret, applied with production settings by mistake, stops every service.
  const dev = overlays.dev;
  const secret = find(dev, 'Secret')[0]!;
  const config = find(dev, 'ConfigMap')[0]!;
  for (const workload of workloads(dev)) {
    const container = workload.spec.template.spec.containers[0];
    const env = containerEnv(dev, container, {});
    expect([workload.metadata.name, env.LOMI_ENV]).toEqual([workload.metadata.name, 'development']);
    const asProduction = containerEnv([secret, { ...config, data: { ...config.data, LOMI_ENV: 'production' } }], container, {});
    expect([workload.metadata.name, envProblems(programOf(container.command)!, asProduction).join('\n')]).toEqual([
      workload.metadata.name,
      expect.stringMatching(/development default or a placeholder|placeholder password/),
    ]);
  }
});

test('the migration Job, and what it needs, can be applied before the rollout by one label', () => {
  for (const objects of Object.values(overlays)) {
    const early = objects.filter((o) => o.metadata.labels?.['lomi.chat/phase'] === 'pre-rollout').map((o) => o.kind);
    expect(early).toEqual(expect.arrayContaining(['Job', 'ConfigMap', 'ServiceAccount', 'NetworkPolicy']));
    expect(early).not.toContain('Deployment');
  }
  expect(find(overlays.dev, 'Secret')[0]!.metadata.labels?.['lomi.chat/phase']).toBe('pre-rollout');
});
