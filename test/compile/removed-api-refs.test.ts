import * as fs from 'fs';
import * as path from 'path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileFiles } from '../../src/compile';
import { FIXTURES, tempDir } from './support';

// Issue 11: a removed apiVersion in a Canary's reference (not in the object) is what Flagger
// ignores: it reads the object by kind and name with the current API (src: pkg/canary/hpa_reconciler.go
// reconcilePrimaryHpa AutoscalingV2, pkg/router/ingress.go Reconcile NetworkingV1). canarykit compiles
// the same objects and warns; a removed apiVersion on the object itself is an error (bad-input rows).

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function compileEdited(fixture: string, edit: (file: string, text: string) => string) {
  const root = tempDir('canarykit-removed-refs-');
  dirs.push(root);
  const dir = path.join(root, 'in');
  fs.cpSync(path.join(FIXTURES, fixture), dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) fs.writeFileSync(path.join(dir, f), edit(f, fs.readFileSync(path.join(dir, f), 'utf8')));
  return { edited: compileFiles([dir], { stateDir: path.join(root, 'state') }), plain: compileFiles([path.join(FIXTURES, fixture)], { stateDir: path.join(root, 'state') }) };
}

describe('removed apiVersions in Canary references', () => {
  it('ingressRef extensions/v1beta1 (ingress.go Reconcile reads networking.k8s.io/v1): same output, a warning', () => {
    const { edited, plain } = compileEdited('nginx', (_f, t) => t.replace(/(ingressRef:\n {4}apiVersion: )networking\.k8s\.io\/v1/, '$1extensions/v1beta1'));
    expect(edited.folders).toEqual(plain.folders);
    expect(edited.warnings).toEqual([expect.stringMatching(/Canary test\/podinfo: spec\.ingressRef\.apiVersion: Ingress extensions\/v1beta1 was removed in Kubernetes 1\.22; write it as networking\.k8s\.io\/v1 .*Flagger ignores this apiVersion/)]);
  });

  it('autoscalerRef autoscaling/v2beta2 (hpa_reconciler.go reads autoscaling/v2): same output, a warning', () => {
    const { edited, plain } = compileEdited('istio', (f, t) => (f === 'canary.yaml' ? t.replace(/(autoscalerRef:\n {4}apiVersion: )autoscaling\/v2/, '$1autoscaling/v2beta2') : t));
    expect(edited.folders).toEqual(plain.folders);
    expect(edited.warnings).toEqual([expect.stringMatching(/spec\.autoscalerRef\.apiVersion: HorizontalPodAutoscaler autoscaling\/v2beta2 was removed in Kubernetes 1\.26; write it as autoscaling\/v2; Flagger ignores this apiVersion .* \(line 13\)$/)]);
  });
});
