import * as fs from 'fs';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile';
import { writeStateFile } from '../../src/model/state-store';
import { removeTempDirs, snapshotDir, stage, tempDir } from '../support/construct-fixtures';

/*
 * compile's `only` (issue 14): the step driver's second synth of a tick, after it wrote the state
 * files of the canaries it advanced, renders only those canaries' folders. The result must be byte
 * for byte what a full compile gives, and every other folder must stay untouched.
 */

afterAll(removeTempDirs);

const NAMESPACES = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];

function repo(): string {
  const dir = tempDir('canarykit-scoped-');
  for (const ns of NAMESPACES) {
    const d = path.join(dir, 'apps', ns);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'deployment.yaml'), `apiVersion: apps/v1
kind: Deployment
metadata: { name: podinfo, namespace: ${ns} }
spec:
  replicas: 2
  selector: { matchLabels: { app: podinfo } }
  template:
    metadata: { labels: { app: podinfo } }
    spec:
      containers: [{ name: podinfod, image: podinfo:1.0.0, ports: [{ name: http, containerPort: 9898 }] }]
`);
    fs.writeFileSync(path.join(d, 'canary.yaml'), `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: { name: podinfo, namespace: ${ns} }
spec:
  provider: istio
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: podinfo }
  service: { port: 9898 }
  analysis: { interval: 1m, threshold: 2, maxWeight: 50, stepWeight: 10 }
`);
  }
  // An object no canary refers to: the _unreferenced folder, which a scoped compile never touches.
  fs.writeFileSync(path.join(dir, 'apps', 'extra.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: extra, namespace: alpha }\ndata: { a: b }\n');
  return dir;
}

const inodes = (dir: string): Map<string, number> => {
  const out = new Map<string, number>();
  for (const file of snapshotDir(dir).keys()) out.set(file, fs.statSync(path.join(dir, file)).ino);
  return out;
};

describe('compile --only the canaries whose state changed (the driver\'s second synth)', () => {
  it('replaces only that folder, byte for byte what a full compile writes', async () => {
    const dir = repo();
    await compile({ files: ['apps'], outdir: 'dist', stateDir: 'state', cwd: dir });
    const before = inodes(path.join(dir, 'dist'));
    writeStateFile(path.join(dir, 'state/charlie/podinfo.json'), stage('Progressing', { namespace: 'charlie', name: 'podinfo', canaryWeight: 30 }));

    await compile({ files: ['apps'], outdir: 'dist', stateDir: 'state', cwd: dir, only: ['charlie/podinfo'] });

    const full = tempDir('canarykit-scoped-full-');
    fs.cpSync(path.join(dir, 'apps'), path.join(full, 'apps'), { recursive: true });
    fs.cpSync(path.join(dir, 'state'), path.join(full, 'state'), { recursive: true });
    await compile({ files: ['apps'], outdir: 'dist', stateDir: 'state', cwd: full });
    const got = snapshotDir(path.join(dir, 'dist'));
    const want = snapshotDir(path.join(full, 'dist'));
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [file, bytes] of want) expect(got.get(file)!.equals(bytes), file).toBe(true);
    // The weight moved in charlie's folder; no other file was rewritten (same inodes).
    expect(got.get(path.join('charlie', 'podinfo', 'virtualservice-podinfo.yaml'))!.toString()).toMatch(/weight: 30/);
    const after = inodes(path.join(dir, 'dist'));
    const rewritten = [...after].filter(([file, ino]) => before.get(file) !== ino).map(([file]) => file);
    expect(rewritten.length).toBeGreaterThan(0);
    for (const file of rewritten) expect(file.startsWith(path.join('charlie', 'podinfo') + path.sep), file).toBe(true);
    expect(after.get(path.join('_unreferenced', 'configmap-extra.yaml'))).toBe(before.get(path.join('_unreferenced', 'configmap-extra.yaml')));
  });

  it('still validates every input, and falls back to a full compile for a canary not in the inputs', async () => {
    const dir = repo();
    await compile({ files: ['apps'], outdir: 'dist', stateDir: 'state', cwd: dir });
    fs.writeFileSync(path.join(dir, 'apps', 'echo', 'canary.yaml'), fs.readFileSync(path.join(dir, 'apps', 'echo', 'canary.yaml'), 'utf8').replace('maxWeight: 50', 'maxWeight: 150'));
    await expect(compile({ files: ['apps'], outdir: 'dist', stateDir: 'state', cwd: dir, only: ['alpha/podinfo'] })).rejects.toThrow(/maxWeight/);

    const other = repo();
    await compile({ files: ['apps'], outdir: 'dist', stateDir: 'state', cwd: other });
    fs.rmSync(path.join(other, 'apps', 'delta'), { recursive: true });
    await compile({ files: ['apps'], outdir: 'dist', stateDir: 'state', cwd: other, only: ['delta/podinfo'] });
    expect(fs.existsSync(path.join(other, 'dist', 'delta'))).toBe(false);
  });
});
