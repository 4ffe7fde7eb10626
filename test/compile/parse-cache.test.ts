import * as fs from 'fs';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile';
import { loadYamlInputs } from '../../src/compile/load-yaml';
import { fileParseCache } from '../../src/compile/parse-cache';
import { removeTempDirs, snapshotDir, tempDir } from '../support/construct-fixtures';

/*
 * The parse cache of the driver's in-process compile (src/compile/parse-cache.ts, issue 14): a
 * file is reparsed exactly when its bytes change, the output is the same as without the cache,
 * and messages still carry line numbers.
 */

afterAll(removeTempDirs);

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: podinfo, namespace: cache }
spec:
  replicas: 2
  selector: { matchLabels: { app: podinfo } }
  template:
    metadata: { labels: { app: podinfo } }
    spec:
      containers: [{ name: podinfod, image: podinfo:1.0.0, ports: [{ name: http, containerPort: 9898 }] }]
`;
const CANARY = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: { name: podinfo, namespace: cache }
spec:
  provider: istio
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: podinfo }
  service: { port: 9898 }
  analysis: { interval: 1m, threshold: 2, maxWeight: 50, stepWeight: 10 }
`;

function repo(): string {
  const dir = tempDir('canarykit-parse-cache-');
  fs.mkdirSync(path.join(dir, 'apps'));
  fs.writeFileSync(path.join(dir, 'apps', 'deployment.yaml'), DEPLOYMENT);
  fs.writeFileSync(path.join(dir, 'apps', 'canary.yaml'), CANARY);
  // A document whose JSON does not survive a round trip (.inf) is never cached.
  fs.writeFileSync(path.join(dir, 'apps', 'odd.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: odd, namespace: cache }\ndata: { a: "x" }\nextra: .inf\n');
  return dir;
}

describe('the parse cache of the in-process compile', () => {
  it('serves unchanged files from the cache, reparses a changed one, and writes the same output', async () => {
    const dir = repo();
    const cacheFile = path.join(dir, 'cache.json');
    const plain = tempDir('canarykit-parse-cache-plain-');
    fs.cpSync(path.join(dir, 'apps'), path.join(plain, 'apps'), { recursive: true });
    await compile({ files: ['apps'], outdir: 'dist', cwd: dir, parseCache: cacheFile });
    const stored = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
    expect(Object.keys(stored.files).sort()).toEqual(['apps/canary.yaml', 'apps/deployment.yaml']);

    // A changed file is reparsed: its new content is what gets compiled.
    fs.writeFileSync(path.join(dir, 'apps', 'deployment.yaml'), DEPLOYMENT.replace('podinfo:1.0.0', 'podinfo:2.0.0'));
    fs.writeFileSync(path.join(plain, 'apps', 'deployment.yaml'), DEPLOYMENT.replace('podinfo:1.0.0', 'podinfo:2.0.0'));
    const reparsed: string[] = [];
    const cache = fileParseCache(cacheFile);
    const objects = loadYamlInputs(['apps'], dir, { ...cache, get: (file, text, reparse) => cache.get(file, text, reparse) ?? (reparsed.push(file), undefined) });
    expect(reparsed.sort()).toEqual(['apps/deployment.yaml', 'apps/odd.yaml']);
    expect(objects.find((o) => o.json.kind === 'Deployment')!.json.spec.template.spec.containers[0].image).toBe('podinfo:2.0.0');

    await compile({ files: ['apps'], outdir: 'dist', cwd: dir, parseCache: cacheFile });
    await compile({ files: ['apps'], outdir: 'dist', cwd: plain });
    const got = snapshotDir(path.join(dir, 'dist'));
    const want = snapshotDir(path.join(plain, 'dist'));
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [file, bytes] of want) expect(got.get(file)!.equals(bytes), file).toBe(true);
  });

  it('a problem in a cached file still names its line; a cut-short cache file is an empty cache', async () => {
    const dir = repo();
    const cacheFile = path.join(dir, 'cache.json');
    await compile({ files: ['apps'], outdir: 'dist', cwd: dir, parseCache: cacheFile });
    // The canary (served from the cache) now refers to a Deployment that is gone.
    fs.rmSync(path.join(dir, 'apps', 'deployment.yaml'));
    const withCache = await compile({ files: ['apps'], outdir: 'dist', cwd: dir, parseCache: cacheFile }).catch((e: Error) => e.message);
    fs.writeFileSync(cacheFile, '{"key": "trunc');
    const cutShort = await compile({ files: ['apps'], outdir: 'dist', cwd: dir, parseCache: cacheFile }).catch((e: Error) => e.message);
    const without = await compile({ files: ['apps'], outdir: 'dist', cwd: dir }).catch((e: Error) => e.message);
    expect(without).toMatch(/spec\.targetRef.*\(line 6\)/);
    expect(withCache).toBe(without);
    expect(cutShort).toBe(without);
  });
});
