import { createHash } from 'crypto';
import { stringify } from 'yaml';
import { AnalysisPlan, PLAN_FILE } from '../model/plan';
import { fastYaml } from './fast-yaml';
import { Json } from './workload/deployment-json';

/** One output folder: relative file path -> content. */
export interface OutputFolder {
  readonly dir: string;
  readonly files: Map<string, string>;
}

/**
 * Stable YAML: no line folding, no anchors for repeated sub-objects (kubectl and reviewers want
 * plain YAML). Written as YAML 1.1, like cdk8s, so strings such as "yes", "on" or "0644" are quoted
 * and kubectl (a YAML 1.1 reader) does not turn them into booleans or octal numbers.
 * `fastYaml` writes the same bytes for ordinary manifests (issue 14); `yaml` is the reference and
 * writes everything it is not certain about.
 */
export function toYaml(value: unknown): string {
  return fastYaml(value) ?? yamlStringify(value);
}

/** The reference writer, exported so tests can compare `fastYaml` with it. */
export function yamlStringify(value: unknown): string {
  return stringify(value, YAML_OPTIONS);
}

const YAML_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' } as const;

/** File name of one manifest: `<kind>-<name>.yaml`, lower-case. */
export function manifestFileName(obj: Json): string {
  const base = `${obj.kind}-${obj.metadata?.name ?? 'unnamed'}`.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  // File names are at most 255 bytes; Kubernetes names up to 253 plus a kind would not fit. Long
  // names keep a readable prefix and a hash of the full name, so they stay distinct and stable.
  if (base.length <= MAX_BASE) return `${base}.yaml`;
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 12);
  return `${base.slice(0, MAX_BASE - 13)}-${hash}.yaml`;
}

const MAX_BASE = 180;

/**
 * The files of one folder: a manifest per object, a kustomization.yaml listing them, and (for a
 * canary) `canary.plan.json`, which is deliberately not a kustomize resource so Flux/Argo ignore it.
 */
export function renderFolder(dir: string, objects: readonly Json[], plan?: AnalysisPlan): OutputFolder {
  const files = new Map<string, string>();
  for (const obj of objects) {
    let name = manifestFileName(obj);
    if (files.has(name) && obj.metadata?.namespace) name = name.replace(/\.yaml$/, `-${obj.metadata.namespace}.yaml`);
    if (files.has(name)) throw new Error(`two objects map to ${dir}/${name}; give them distinct names`);
    files.set(name, toYaml(obj));
  }
  const resources = [...files.keys()].sort();
  files.set('kustomization.yaml', toYaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources }));
  if (plan) files.set(PLAN_FILE, `${JSON.stringify(plan, null, 2)}\n`);
  return { dir, files };
}
