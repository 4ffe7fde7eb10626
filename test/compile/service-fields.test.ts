import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Testing } from 'cdk8s';
import { compileFiles } from '../../src/compile';
import { manifestProblems, strictSchemaProblems } from '../constructs/manifest-validator';
import { addPodinfoChart } from '../support/construct-fixtures';
import { FIXTURES, Output, compileFixture, tempDir, writeStage } from './support';

// Issue 11: Flagger fields of spec.service and spec that canarykit no longer refuses, compiled
// from test/fixtures/flagger/service-fields (the service block of Flagger's how-it-works.md).

const execFileAsync = promisify(execFile);
const DIR = 'test/podinfo';
const SERVICES = ['service-podinfo', 'service-podinfo-primary', 'service-podinfo-canary'];
let stateDir: string;
beforeEach(() => {
  stateDir = tempDir();
});
afterEach(() => {
  fs.rmSync(stateDir, { recursive: true, force: true });
});

/** The fixture with one edit, compiled. */
function compileEdited(edit: (text: string) => string, extra: string[] = []): Output {
  const dir = path.join(stateDir, 'in');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'podinfo.yaml'), [edit(fs.readFileSync(path.join(FIXTURES, 'service-fields', 'podinfo.yaml'), 'utf8')), ...extra].join('---\n'));
  return new Output(compileFiles([dir], { stateDir: path.join(stateDir, 'state') }));
}

describe('service.trafficDistribution (src: pkg/router/kubernetes_default.go reconcileService)', () => {
  it.each([
    ['bootstrap', undefined],
    ['Progressing', { phase: 'Progressing', canaryWeight: 0, iterations: 3 }],
    ['Promoting', { phase: 'Promoting', canaryWeight: 0 }],
    ['Finalising', { phase: 'Finalising', canaryWeight: 0 }],
    ['Succeeded', { phase: 'Succeeded', canaryWeight: 0 }],
    ['Failed', { phase: 'Failed', canaryWeight: 0 }],
  ] as const)('%s: all three Services carry it; the rest of every object is valid for Kubernetes 1.28; kustomize builds', async (_label, patch) => {
    if (patch) writeStage(stateDir, compileFixture('service-fields', stateDir).plan(DIR), patch);
    const out = compileFixture('service-fields', stateDir);
    const problems: string[] = [];
    for (const name of SERVICES) {
      const svc = out.obj(DIR, name);
      expect(svc.spec.trafficDistribution).toBe('PreferClose');
      // Kubernetes 1.28 has no such field (PreferClose is beta in 1.31): strict validation sees
      // exactly that one unknown field, and nothing else.
      expect(strictSchemaProblems(svc).join('\n')).toMatch(/trafficDistribution/);
      const { trafficDistribution: _t, ...spec } = svc.spec;
      problems.push(...manifestProblems({ ...svc, spec }));
    }
    for (const file of out.files(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && !f.startsWith('service-'))) {
      problems.push(...manifestProblems(parse(out.text(DIR, file))));
    }
    expect(problems).toEqual([]);
    const root = tempDir('canarykit-service-fields-kustomize-');
    try {
      for (const file of out.files(DIR)) fs.writeFileSync(path.join(root, file), out.text(DIR, file));
      expect((await execFileAsync('kubectl', ['kustomize', root], { encoding: 'utf8' })).stdout).toContain('trafficDistribution: PreferClose');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('unset, the Services have no trafficDistribution (Go omitempty)', () => {
    const out = compileEdited((t) => t.replace('    trafficDistribution: PreferClose\n', ''));
    for (const name of SERVICES) expect(out.obj(DIR, name).spec).not.toHaveProperty('trafficDistribution');
  });

  it('a value outside the CRD enum is refused by the schema', () => {
    expect(() => compileEdited((t) => t.replace('trafficDistribution: PreferClose', 'trafficDistribution: Nearby'))).toThrow(/spec\.service\.trafficDistribution: must be one of "PreferClose", "PreferSameZone", "PreferSameNode" \(line 47\)/);
  });

  it('the construct option sets it on the three Services', () => {
    const { chart } = addPodinfoChart(Testing.app(), { service: { trafficDistribution: 'PreferSameZone' } });
    const services = Testing.synth(chart).filter((o: any) => o.kind === 'Service');
    expect(services.map((s: any) => s.spec.trafficDistribution)).toEqual(['PreferSameZone', 'PreferSameZone', 'PreferSameZone']);
  });
});

describe('service.unmanagedMetadata and revertOnDeletion: accepted, nothing to do in git', () => {
  it('the output is the same as without them (pkg/router/kubernetes_default.go keeps foreign keys; git apply keeps them too)', () => {
    const without = compileEdited((t) => t.replace(/    unmanagedMetadata:\n(?: {6}.*\n)+/, '').replace('  revertOnDeletion: true\n', ''));
    const withThem = compileFixture('service-fields', path.join(stateDir, 'state'));
    expect(withThem.compiled.folders).toEqual(without.compiled.folders);
    expect(withThem.compiled.warnings).toEqual([]);
  });

  it('removing the Canary from the inputs leaves the app serving: the target as written (replicas 3) and the user\'s Service, no generated object (how-it-works.md "Canary finalizers")', () => {
    const userService = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo\n  namespace: test\nspec:\n  selector:\n    app: podinfo\n  ports:\n    - name: http\n      port: 9898\n      targetPort: 9898\n';
    const out = compileEdited((t) => t.slice(0, t.indexOf('---\napiVersion: flagger.app')), [userService]);
    expect(out.dirs).toEqual(['_unreferenced']);
    const deployment = out.obj('_unreferenced', 'deployment-podinfo');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.containers[0].image).toBe('ghcr.io/stefanprodan/podinfo:6.1.0');
    expect(out.obj('_unreferenced', 'service-podinfo').spec.selector).toEqual({ app: 'podinfo' });
    expect(out.compiled.warnings).toEqual(['no flagger.app/v1beta1 Canary in the inputs: every object was passed through unchanged']);
  });
});
