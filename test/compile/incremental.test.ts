/*
 * Incremental compile (issue 14, src/compile/record.ts): a compile that keeps the canary folders
 * whose record matches writes exactly the tree a full compile writes, after any edit of the inputs,
 * the state files, the controller settings or the output itself.
 */
import * as fs from 'fs';
import * as path from 'path';
import { afterEach, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile';
import { CompileOptions } from '../../src/compile/compile';
import { RECORD_FILE } from '../../src/compile/record';
import { AnalysisPlan } from '../../src';
import { FIXTURES, tempDir, writeStage } from './support';

// Fixtures of several providers, each moved to a namespace of its own: hits and misses of every
// kind of lookup (ConfigMaps, HPA, templates across namespaces, a shared Gloo Upstream, an Ingress,
// Kuma's cluster-scoped TrafficRoute), plus objects no canary uses (`_unreferenced/`).
const FIXTURE_DIRS = ['istio', 'config-tracking', 'kuma', 'metrics', 'gloo', 'nginx'];

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function repo(): string {
  const root = tempDir('canarykit-incr-');
  dirs.push(root);
  for (const name of FIXTURE_DIRS) {
    const to = path.join(root, 'apps', name);
    fs.mkdirSync(to, { recursive: true });
    for (const f of fs.readdirSync(path.join(FIXTURES, name))) {
      if (!/\.ya?ml$/.test(f)) continue;
      const text = fs.readFileSync(path.join(FIXTURES, name, f), 'utf8');
      fs.writeFileSync(path.join(to, f), text.replace(/namespace: test\b/g, `namespace: ns-${name}`).replace(/^  name: test$/m, `  name: ns-${name}`));
    }
  }
  return root;
}

/** Every file under `dir`, relative path -> content. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else out[r] = fs.readFileSync(path.join(dir, r), 'utf8');
    }
  };
  walk('');
  return out;
}

type Opts = Omit<CompileOptions, 'files' | 'outdir' | 'cwd' | 'stateDir'>;

/** An incremental compile into dist/ and a full one into a fresh folder; both trees must be equal. */
async function compareWithFull(root: string, opts: Opts = {}): Promise<{ reused: number; folders: number }> {
  const base = { files: ['apps'], cwd: root, stateDir: 'state', ...opts };
  const inc = await compile({ ...base, outdir: 'dist' });
  fs.rmSync(path.join(root, 'full'), { recursive: true, force: true });
  const full = await compile({ ...base, outdir: 'full', incremental: false });
  expect(full.reused).toBe(0);
  expect(tree(path.join(root, 'dist'))).toEqual(tree(path.join(root, 'full')));
  expect(inc.folders).toBe(full.folders);
  return inc;
}

/** The canary folder of a fixture's namespace in dist/ (metrics' canary is podinfo-release). */
function folderOf(root: string, fixture: string): string {
  const ns = path.join(root, 'dist', `ns-${fixture}`);
  const [name] = fs.existsSync(ns) ? fs.readdirSync(ns) : [];
  return path.join(ns, name ?? 'missing');
}

function plan(root: string, fixture: string): AnalysisPlan {
  return JSON.parse(fs.readFileSync(path.join(folderOf(root, fixture), 'canary.plan.json'), 'utf8'));
}

function edit(file: string, from: RegExp | string, to: string): void {
  const text = fs.readFileSync(file, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`no ${from} in ${file}`);
  fs.writeFileSync(file, next);
}

/** A small deterministic generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('incremental compile (src/compile/record.ts)', () => {
  it('writes a record in every canary folder and keeps every folder of an unchanged repository', async () => {
    const root = repo();
    const first = await compareWithFull(root);
    expect(first.reused).toBe(0);
    for (const f of FIXTURE_DIRS) expect(fs.existsSync(path.join(folderOf(root, f), RECORD_FILE)), f).toBe(true);
    const again = await compareWithFull(root);
    // Kuma's canary writes a cluster-scoped TrafficRoute, checked across canaries: always rebuilt.
    expect(again.reused).toBe(FIXTURE_DIRS.length - 1);
    const record = JSON.parse(fs.readFileSync(path.join(root, 'dist', 'ns-config-tracking', 'podinfo', RECORD_FILE), 'utf8'));
    expect(Object.keys(record.inputs)).toEqual(expect.arrayContaining(['|ConfigMap|ns-config-tracking|podinfo-env', 'apps|Deployment|ns-config-tracking|podinfo']));
    // The take-over lookups of the generated Services: misses, so a Service appearing later rebuilds the folder.
    expect(record.adopted['|Service|ns-config-tracking|podinfo-primary']).toBeNull();
    expect(record.outputs).toEqual(expect.arrayContaining(['apps|Deployment|ns-config-tracking|podinfo-primary', '|Service|ns-config-tracking|podinfo']));
    expect(record.state).toBeNull();
  });

  it('a ConfigMap edit reaches only the canary that uses it', async () => {
    const root = repo();
    await compareWithFull(root);
    const before = tree(path.join(root, 'dist'));
    const cm = fs.readdirSync(path.join(root, 'apps', 'config-tracking')).find((f) => fs.readFileSync(path.join(root, 'apps', 'config-tracking', f), 'utf8').includes('name: podinfo-env'))!;
    edit(path.join(root, 'apps', 'config-tracking', cm), /(\n  name: podinfo-env\n[\s\S]*?data:\n  )(\w+): /, '$1$2_EDITED: ');
    const r = await compareWithFull(root);
    expect(r.reused).toBe(FIXTURE_DIRS.length - 2); // all but config-tracking's and kuma's
    const after = tree(path.join(root, 'dist'));
    const changed = Object.keys(after).filter((f) => after[f] !== before[f]);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((f) => f.startsWith(path.join('ns-config-tracking', 'podinfo')))).toBe(true);
  });

  it('rebuilds a folder edited by hand, one with a stray file, a missing or corrupt record, a changed state file', async () => {
    const root = repo();
    await compareWithFull(root);
    edit(path.join(folderOf(root, 'istio'), 'kustomization.yaml'), 'resources:', 'resources: #');
    fs.writeFileSync(path.join(folderOf(root, 'nginx'), 'stray.yaml'), 'x: 1\n');
    fs.rmSync(path.join(folderOf(root, 'metrics'), RECORD_FILE));
    fs.writeFileSync(path.join(folderOf(root, 'gloo'), RECORD_FILE), '{');
    writeStage(path.join(root, 'state'), plan(root, 'config-tracking'), { phase: 'Progressing', canaryWeight: 10 });
    expect((await compareWithFull(root)).reused).toBe(0);
    expect((await compareWithFull(root)).reused).toBe(FIXTURE_DIRS.length - 1);
  });

  it('controller settings, a renamed and a deleted input, a removed canary', async () => {
    const root = repo();
    await compareWithFull(root);
    expect((await compareWithFull(root, { controller: { metricsServer: 'http://prom.example:9090' } })).reused).toBe(0);
    expect((await compareWithFull(root, { controller: { metricsServer: 'http://prom.example:9090' } })).reused).toBe(FIXTURE_DIRS.length - 1);
    expect((await compareWithFull(root)).reused).toBe(0);
    // A file renamed with the same content: the objects are the same, the folders stay.
    fs.renameSync(path.join(root, 'apps', 'istio', 'deployment.yaml'), path.join(root, 'apps', 'istio', 'renamed.yaml'));
    expect((await compareWithFull(root)).reused).toBe(FIXTURE_DIRS.length - 1);
    // The HPA gone (and the reference to it): istio's canary is rebuilt, its HPA leaves the output.
    fs.rmSync(path.join(root, 'apps', 'istio', 'hpa.yaml'));
    edit(path.join(root, 'apps', 'istio', 'canary.yaml'), /\n  autoscalerRef:\n(    .*\n)+/, '\n');
    expect((await compareWithFull(root)).reused).toBe(FIXTURE_DIRS.length - 2);
    // A canary removed: its folder goes, its Deployment is passed through.
    edit(path.join(root, 'apps', 'nginx', 'podinfo.yaml'), /\n---\napiVersion: flagger.app\/v1beta1\nkind: Canary\n[\s\S]*?(?=\n---\n|$)/, '');
    await compareWithFull(root);
    expect(fs.existsSync(path.join(root, 'dist', 'ns-nginx', 'podinfo'))).toBe(false);
    expect(fs.readdirSync(path.join(root, 'dist', '_unreferenced')).some((f) => f.startsWith('deployment-podinfo'))).toBe(true);
  });

  it('an object appearing, changing or going away under a generated name rebuilds the canary that takes it over (issue 11 adoption)', async () => {
    const root = repo();
    await compareWithFull(root);
    // Flagger's Istio e2e applies the apex Service before the Canary: istio's canary now takes it over.
    const svc = path.join(root, 'apps', 'istio', 'existing-service.yaml');
    const service = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo\n  namespace: ns-istio\n  labels:\n    team: shop\nspec:\n  type: ClusterIP\n  ports:\n    - name: http\n      port: 9898\n';
    fs.writeFileSync(svc, service);
    let r = await compareWithFull(root);
    expect(r.reused).toBe(FIXTURE_DIRS.length - 2); // all but istio's and kuma's
    expect(fs.readFileSync(path.join(folderOf(root, 'istio'), 'service-podinfo.yaml'), 'utf8')).toContain('team: shop');
    expect(fs.existsSync(path.join(root, 'dist', '_unreferenced', 'service-podinfo.yaml'))).toBe(false);
    // Unchanged, the folder that took the Service over is kept, and the Service stays out of _unreferenced/.
    r = await compareWithFull(root);
    expect(r.reused).toBe(FIXTURE_DIRS.length - 1);
    fs.writeFileSync(svc, service.replace('team: shop', 'team: cart'));
    r = await compareWithFull(root);
    expect(r.reused).toBe(FIXTURE_DIRS.length - 2);
    expect(fs.readFileSync(path.join(folderOf(root, 'istio'), 'service-podinfo.yaml'), 'utf8')).toContain('team: cart');
    fs.rmSync(svc);
    r = await compareWithFull(root);
    expect(r.reused).toBe(FIXTURE_DIRS.length - 2);
    expect(fs.readFileSync(path.join(folderOf(root, 'istio'), 'service-podinfo.yaml'), 'utf8')).not.toContain('team:');
  });

  it('a kept folder still owns its objects: a new input object with the name of one of them is an error, as in a full compile', async () => {
    const root = repo();
    await compareWithFull(root);
    // A Deployment named like istio's generated primary cannot be taken over (bad-input "object also generated").
    fs.writeFileSync(path.join(root, 'apps', 'nginx', 'clash.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo-primary\n  namespace: ns-istio\nspec: {}\n');
    const base = { files: ['apps'], cwd: root, stateDir: 'state' };
    const inc = await compile({ ...base, outdir: 'dist' }).then(() => '', (e: Error) => e.message);
    const full = await compile({ ...base, outdir: 'full2', incremental: false }).then(() => '', (e: Error) => e.message);
    expect(full).toContain('one object per group, kind, namespace and name');
    expect(inc).toContain('one object per group, kind, namespace and name');
  });

  it('matches a full compile after random edits of inputs, state files, settings and output', async () => {
    const root = repo();
    await compareWithFull(root);
    const rnd = random(14);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const settings: Opts['controller'][] = [undefined, { metricsServer: 'http://prom.example:9090' }, { enableConfigTracking: false }, { includeLabelPrefix: ['app'] }];
    let controller: Opts['controller'];
    const yamls = (): string[] => FIXTURE_DIRS.flatMap((d) => fs.readdirSync(path.join(root, 'apps', d)).map((f) => path.join(root, 'apps', d, f)));
    const edits: (() => void)[] = [
      () => {
        const f = pick(yamls().filter((y) => fs.readFileSync(y, 'utf8').includes('image: ')));
        edit(f, /image: (\S+?)(-r\d+)?\n/, `image: $1-r${Math.floor(rnd() * 1000)}\n`);
      },
      () => writeStage(path.join(root, 'state'), plan(root, pick(FIXTURE_DIRS)), { phase: 'Progressing', canaryWeight: pick([10, 20, 30]) }),
      () => fs.rmSync(path.join(root, 'state', `ns-${pick(FIXTURE_DIRS)}`), { recursive: true, force: true }),
      () => {
        controller = pick(settings);
      },
      () => {
        const f = pick(yamls());
        fs.renameSync(f, path.join(path.dirname(f), `r${Math.floor(rnd() * 1000)}-${path.basename(f)}`));
      },
      () => {
        const folder = folderOf(root, pick(FIXTURE_DIRS));
        const file = pick(fs.readdirSync(folder));
        fs.appendFileSync(path.join(folder, file), '\n');
      },
      () => {
        const f = pick(yamls().filter((y) => /\bdata:\n/.test(fs.readFileSync(y, 'utf8'))));
        if (f) edit(f, /data:\n/, `data:\n  edit-${Math.floor(rnd() * 1000)}: "x"\n`);
      },
    ];
    let reused = 0;
    for (let round = 0; round < 12; round++) {
      for (let n = 1 + Math.floor(rnd() * 2); n > 0; n--) pick(edits)();
      reused += (await compareWithFull(root, { controller })).reused;
    }
    expect(reused).toBeGreaterThan(0);
  }, 120_000);
});
