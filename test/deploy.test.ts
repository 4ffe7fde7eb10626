import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { manifestProblems, strictSchemaProblems } from './constructs/manifest-validator';

/*
 * deploy/: the driver's CronJob (kustomize base), its Dockerfile, the GitHub Actions example and
 * the Flux / Argo CD objects that apply dist/. Manifests are validated against the Kubernetes 1.28
 * and Flux CRD schemas; the Dockerfile is linted by rules (no Docker engine or hadolint here).
 */

const ROOT = path.resolve(__dirname, '..');
const DEPLOY = path.join(ROOT, 'deploy');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const yamlDocs = (file: string): any[] => parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => {
  expect(d.errors, file).toEqual([]);
  return d.toJS();
});

describe('deploy/kubernetes-sharded: the step driver as an Indexed Job of N shards (issue 14)', () => {
  const built = execFileSync('kubectl', ['kustomize', path.join(DEPLOY, 'kubernetes-sharded')], { encoding: 'utf8' });
  const objects = parseAllDocuments(built).map((d) => d.toJS());
  const cronJob = objects.find((o) => o.kind === 'CronJob');
  const job = cronJob.spec.jobTemplate.spec;
  const step = job.template.spec.containers.find((c: any) => c.name === 'step');
  const config = objects.find((o) => o.kind === 'ConfigMap');

  it('builds from the base with kubectl kustomize, every object schema-valid (Kubernetes 1.28, strict)', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['ConfigMap/canarykit-driver', 'CronJob/canarykit-step', 'Namespace/canarykit', 'ServiceAccount/canarykit-driver']);
    for (const o of objects) expect(manifestProblems(o)).toEqual([]);
  });

  it('runs N pods per tick, pod I as `step --all --shard I/N`, with N the same in the Job and the ConfigMap', () => {
    expect(job).toMatchObject({ completionMode: 'Indexed', completions: 4, parallelism: 4 });
    expect(step.args).toEqual(['step', '--all', '--shard', '$(JOB_COMPLETION_INDEX)/$(CANARYKIT_SHARDS)', '--repo', '/work/repo']);
    expect(Number(config.data.CANARYKIT_SHARDS)).toBe(job.completions);
    // The variables the args expand come from the pod: the ConfigMap (envFrom) and the Job controller.
    expect(step.envFrom).toContainEqual({ configMapRef: { name: 'canarykit-driver' } });
    expect(cronJob.spec.concurrencyPolicy).toBe('Forbid');
  });
});

// keptn.go and externalmetrics.go read the Kubernetes API: the component gives the driver a token
// and only the verbs those providers use.
describe('deploy/kubernetes/cluster-metrics: the component for keptn and externalmetrics MetricTemplates', () => {
  const overlay = fs.mkdtempSync(path.join(require('os').tmpdir(), 'ck-overlay-'));
  const rel = (p: string) => path.relative(overlay, p);
  fs.writeFileSync(path.join(overlay, 'kustomization.yaml'), `resources: [${rel(path.join(DEPLOY, 'kubernetes'))}]\ncomponents: [${rel(path.join(DEPLOY, 'kubernetes', 'cluster-metrics'))}]\n`);
  const objects = parseAllDocuments(execFileSync('kubectl', ['kustomize', overlay], { encoding: 'utf8' })).map((d) => d.toJS());

  it('builds on the CronJob base, schema-valid, and turns on the token for the driver pod only', () => {
    for (const o of objects) expect(manifestProblems(o)).toEqual([]);
    const cronJob = objects.find((o) => o.kind === 'CronJob');
    expect(cronJob.spec.jobTemplate.spec.template.spec.automountServiceAccountToken).toBe(true);
    expect(objects.find((o) => o.kind === 'ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  it('grants get on KeptnMetrics, create/get/delete on Analyses and list on external metrics, to the driver', () => {
    const roles = Object.fromEntries(objects.filter((o) => o.kind === 'ClusterRole').map((o) => [o.metadata.name, o.rules]));
    expect(roles['canarykit-driver-keptn']).toEqual([
      { apiGroups: ['metrics.keptn.sh'], resources: ['keptnmetrics'], verbs: ['get'] },
      { apiGroups: ['metrics.keptn.sh'], resources: ['analyses'], verbs: ['create', 'get', 'delete'] },
    ]);
    expect(roles['canarykit-driver-external-metrics']).toEqual([{ apiGroups: ['external.metrics.k8s.io'], resources: ['*'], verbs: ['list'] }]);
    for (const b of objects.filter((o) => o.kind === 'ClusterRoleBinding')) {
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: 'canarykit-driver', namespace: 'canarykit' }]);
      expect(Object.keys(roles)).toContain(b.roleRef.name);
    }
  });
});

describe('deploy/kubernetes: the step driver as a CronJob', () => {
  const built = execFileSync('kubectl', ['kustomize', path.join(DEPLOY, 'kubernetes')], { encoding: 'utf8' });
  const objects = parseAllDocuments(built).map((d) => d.toJS());
  const cronJob = objects.find((o) => o.kind === 'CronJob');
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  const step = pod.containers.find((c: any) => c.name === 'step');
  const clone = pod.initContainers.find((c: any) => c.name === 'clone');

  it('builds with kubectl kustomize and every object is schema-valid (Kubernetes 1.28, strict)', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['ConfigMap/canarykit-driver', 'CronJob/canarykit-step', 'Namespace/canarykit', 'ServiceAccount/canarykit-driver']);
    for (const o of objects) expect(manifestProblems(o)).toEqual([]);
  });

  it('rejects what the schema rejects (the validator can fail)', () => {
    const broken = structuredClone(cronJob);
    broken.spec.jobTemplate.spec.template.spec.containers[0].securityContext.readOnlyRootFS = true;
    expect(strictSchemaProblems(broken).join()).toContain('readOnlyRootFS');
  });

  it('runs one `canarykit step --all` at a time in a fresh clone', () => {
    expect(cronJob.spec.concurrencyPolicy).toBe('Forbid');
    expect(cronJob.spec.schedule).toBe('* * * * *');
    expect(cronJob.spec.jobTemplate.spec.backoffLimit).toBe(0);
    expect(step.args).toEqual(['step', '--all', '--repo', '/work/repo']);
    expect(clone.command.slice(0, 2)).toEqual(['git', 'clone']);
    expect(clone.command.at(-1)).toBe('/work/repo');
    // Both see the clone on the same writable emptyDir.
    const work = pod.volumes.find((v: any) => v.name === 'work');
    expect(work.emptyDir).toBeDefined();
    for (const c of [clone, step]) expect(c.volumeMounts).toContainEqual({ name: 'work', mountPath: '/work' });
  });

  it('runs as the image user, non-root, read-only root filesystem, no privilege, bounded resources', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    for (const c of [clone, step]) {
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(c.resources.limits).toEqual({ cpu: '1', memory: '512Mi' });
      expect(c.resources.requests).toBeDefined();
      // Every writable path is an emptyDir; the only other mount is the read-only Secret.
      for (const m of c.volumeMounts) {
        const v = pod.volumes.find((x: any) => x.name === m.name);
        expect(v.emptyDir !== undefined || (v.secret && m.readOnly === true), m.name).toBe(true);
      }
      expect(c.image).toBe(`canarykit:${pkg.version}`);
    }
  });

  it('takes git credentials and tokens from Secrets and the Prometheus address from the ConfigMap', () => {
    const secretVolume = pod.volumes.find((v: any) => v.name === 'git-credentials');
    expect(secretVolume.secret.secretName).toBe('canarykit-git');
    const env = Object.fromEntries(step.env.map((e: any) => [e.name, e]));
    expect(env.CANARYKIT_GITHUB_TOKEN.valueFrom.secretKeyRef).toEqual({ name: 'canarykit-github', key: 'token', optional: true });
    expect(env.CANARYKIT_PROMETHEUS_TOKEN.valueFrom.secretKeyRef).toMatchObject({ name: 'canarykit-prometheus', key: 'token' });
    expect(env.GIT_CONFIG_VALUE_0.value).toBe('store --file=/etc/canarykit/git/git-credentials');
    const config = objects.find((o) => o.kind === 'ConfigMap');
    expect(step.envFrom).toEqual([{ configMapRef: { name: config.metadata.name } }]);
    expect(Object.keys(config.data).sort()).toEqual(['CANARYKIT_BRANCH', 'CANARYKIT_PROMETHEUS_ADDRESS', 'CANARYKIT_REPO_URL']);
    // No Secret object and no token value is part of the base.
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
  });
});

/** Dockerfile instructions with line continuations joined: [instruction, arguments]. */
function instructions(text: string): [string, string][] {
  const out: [string, string][] = [];
  const logical = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const l of logical) {
    const [, op, rest] = /^(\S+)\s*(.*)$/.exec(l)!;
    out.push([op.toUpperCase(), rest]);
  }
  return out;
}

describe('deploy/Dockerfile (linted by rule; no Docker engine here)', () => {
  const text = fs.readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');
  const all = instructions(text);
  const stages: [string, string][][] = [];
  for (const ins of all) {
    if (ins[0] === 'FROM') stages.push([]);
    stages.at(-1)?.push(ins);
  }
  const final = stages.at(-1)!;
  const arg = all.find(([op, a]) => op === 'ARG' && a.startsWith('NODE_IMAGE='));

  it('is multi-stage on a pinned Node 20 slim base, never latest', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(arg?.[1]).toMatch(/^NODE_IMAGE=node:20\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/);
    expect(Number(/>=\s*(\d+)/.exec(pkg.engines.node)![1])).toBe(20);
    for (const s of stages) expect(s[0][1]).toMatch(/^\$\{NODE_IMAGE\}( AS \w+)?$/);
    expect(text).not.toMatch(/:latest\b/);
    expect(all.some(([op]) => op === 'ADD')).toBe(false);
  });

  it('runs as a non-root user that the CronJob names, with an exec-form ENTRYPOINT', () => {
    const users = final.filter(([op]) => op === 'USER').map(([, a]) => a);
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!;
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const entry = final.findIndex(([op]) => op === 'ENTRYPOINT');
    expect(final.findIndex(([op]) => op === 'USER')).toBeLessThan(entry);
    expect(JSON.parse(final[entry][1])).toEqual(['canarykit']);
    expect(() => JSON.parse(final.find(([op]) => op === 'CMD')![1])).not.toThrow();
    expect(final.some(([op, a]) => op === 'HEALTHCHECK' && a === 'NONE')).toBe(true);
    const cron = parse(fs.readFileSync(path.join(DEPLOY, 'kubernetes', 'cronjob.yaml'), 'utf8'));
    expect(String(cron.spec.jobTemplate.spec.template.spec.securityContext.runAsUser)).toBe(user.split(':')[0]);
  });

  it('installs only production dependencies in the runtime stage, apt without extras or lists', () => {
    const runs = final.filter(([op]) => op === 'RUN').map(([, a]) => a);
    const npm = runs.filter((r) => /\bnpm (ci|install|i)\b/.test(r));
    expect(npm.length).toBe(1);
    expect(npm[0]).toMatch(/npm install -g --omit=dev .*canarykit-\*\.tgz/);
    for (const r of runs.filter((x) => /apt-get install/.test(x))) {
      expect(r).toContain('--no-install-recommends');
      expect(r).toContain('rm -rf /var/lib/apt/lists/*');
    }
    expect(runs.join(' ')).toMatch(/apt-get install .*\bgit\b/);
  });

  it('copies only files that exist and are not ignored, and everything the package ships', () => {
    const ignore = fs.readFileSync(path.join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    const sources = stages[0].filter(([op, a]) => op === 'COPY' && !a.startsWith('--from')).flatMap(([, a]) => a.split(/\s+/).slice(0, -1));
    for (const s of sources) {
      expect(fs.existsSync(path.join(ROOT, s)), s).toBe(true);
      expect(ignore, s).toContain(s);
    }
    // lib/ is built from src/ and imports/ (tsconfig.build.json); everything else ships as is.
    for (const f of pkg.files as string[]) expect(f.startsWith('lib/') || sources.includes(f), f).toBe(true);
    for (const f of ['src', 'imports', 'tsconfig.build.json', 'package-lock.json']) expect(sources).toContain(f);
  });
});

describe('deploy/github-actions: the driver as a scheduled workflow', () => {
  const wf = parse(fs.readFileSync(path.join(DEPLOY, 'github-actions', 'canarykit-step.yaml'), 'utf8'));

  it('runs on a schedule, one at a time, with the permissions stage commits and pull requests need', () => {
    expect(wf.on.schedule[0].cron.split(' ')).toHaveLength(5);
    expect(wf.concurrency).toEqual({ group: 'canarykit-step', 'cancel-in-progress': false });
    expect(wf.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
    const steps = wf.jobs.step.steps;
    expect(steps.find((s: any) => s.uses?.startsWith('actions/checkout@')).with['fetch-depth']).toBe(0);
    expect(steps.find((s: any) => /npm install -g canarykit@/.test(s.run ?? '')).run).toBe(`npm install -g canarykit@${pkg.version}`);
    const tick = steps.find((s: any) => s.run === 'canarykit step --all');
    expect(tick.env.CANARYKIT_GITHUB_TOKEN).toBe('${{ secrets.GITHUB_TOKEN }}');
    expect(tick.env.CANARYKIT_PROMETHEUS_ADDRESS).toBeDefined();
  });
});

/** dist/<namespace>/<name>/ folders of the committed example output. */
// The output's marker file (.canarykit-output) is not a namespace folder.
const canaryFolders = (): string[] => fs.readdirSync(path.join(ROOT, 'dist')).filter((ns) => !ns.startsWith('.')).flatMap((ns) => fs.readdirSync(path.join(ROOT, 'dist', ns)).map((n) => `dist/${ns}/${n}`)).sort();

describe('deploy/flux and deploy/argocd: applying dist/', () => {
  it('Flux: one Kustomization per canary folder and one for all, valid against the Flux CRD', () => {
    const perCanary = yamlDocs(path.join(DEPLOY, 'flux', 'canaries.yaml'));
    const [all] = yamlDocs(path.join(DEPLOY, 'flux', 'all.yaml'));
    for (const k of [...perCanary, all]) {
      expect(k.apiVersion).toBe('kustomize.toolkit.fluxcd.io/v1');
      expect(strictSchemaProblems(k)).toEqual([]);
      expect(k.spec).toMatchObject({ prune: true, sourceRef: { kind: 'GitRepository' } });
    }
    expect(perCanary.map((k) => k.spec.path.replace(/^\.\//, '')).sort()).toEqual(canaryFolders());
    expect(all.spec.path).toBe('./dist');
    // Every folder Flux reads is one kustomize can build.
    for (const dir of canaryFolders()) expect(fs.existsSync(path.join(ROOT, dir, 'kustomization.yaml')), dir).toBe(true);
    expect(fs.existsSync(path.join(ROOT, 'dist', 'kustomization.yaml'))).toBe(false);
  });

  it('the Flux schema rejects a misspelt field (the check can fail)', () => {
    const [all] = yamlDocs(path.join(DEPLOY, 'flux', 'all.yaml'));
    expect(strictSchemaProblems({ ...all, spec: { ...all.spec, prunne: true } }).join()).toContain('prunne');
  });

  it('Argo CD: an Application for one canary folder and an ApplicationSet over dist/*/* (shape only: no vendored CRD)', () => {
    const [app] = yamlDocs(path.join(DEPLOY, 'argocd', 'application.yaml'));
    expect(app).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' });
    expect(canaryFolders()).toContain(app.spec.source.path);
    const [set] = yamlDocs(path.join(DEPLOY, 'argocd', 'applicationset.yaml'));
    expect(set).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'ApplicationSet' });
    expect(set.spec.generators[0].git.directories).toEqual([{ path: 'dist/*/*' }]);
    expect(set.spec.template.spec.source.path).toBe('{{ .path.path }}');
  });
});
