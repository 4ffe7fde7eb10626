import { Problem } from '../errors';
import { canaryNameProblem, namespaceProblem } from '../names';
import { FLAGGER_API_VERSION, FLAGGER_GROUP, FLAGGER_KINDS, FlaggerKind } from './flagger-types';
import { InputObject, documentName } from './load-yaml';
import { removedApiProblem } from './removed-apis';
import { fieldProblem, resourceName, validateFlaggerResource } from './schema';

/** The inputs sorted by role: Flagger resources and the Kubernetes objects around them. */
export interface Inputs {
  readonly canaries: InputObject[];
  readonly metricTemplates: InputObject[];
  readonly alertProviders: InputObject[];
  /** Everything else, in input order. */
  readonly objects: InputObject[];
}

/** API group of an apiVersion (`apps/v1` -> `apps`, `v1` -> ``). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/** Namespace of an object as the cluster would see it when applied without one: `default`. */
export function namespaceOf(obj: InputObject): string {
  return obj.json.metadata?.namespace ?? 'default';
}

/** Identity of an object in a cluster: group, kind, namespace, name. */
export function objectKey(group: string, kind: string, namespace: string, name: string): string {
  return `${group}|${kind}|${namespace}|${name}`;
}

function keyOf(obj: InputObject): string {
  return objectKey(apiGroup(obj.json.apiVersion), obj.json.kind, namespaceOf(obj), obj.json.metadata.name);
}

/** Lookup of the Kubernetes objects (and Flagger resources) by identity. */
export class InputIndex {
  private readonly byKey = new Map<string, InputObject>();
  constructor(objects: readonly InputObject[]) {
    for (const o of objects) if (!this.byKey.has(keyOf(o))) this.byKey.set(keyOf(o), o);
  }
  find(group: string, kind: string, namespace: string, name: string): InputObject | undefined {
    return this.byKey.get(objectKey(group, kind, namespace, name));
  }
}

/**
 * Checks that every document is a named Kubernetes object, that Flagger resources have the right
 * apiVersion and kind and match their schema, and that no two documents define the same object.
 */
export function classifyInputs(all: readonly InputObject[]): { inputs: Inputs; problems: Problem[] } {
  const problems: Problem[] = [];
  const inputs: Inputs = { canaries: [], metricTemplates: [], alertProviders: [], objects: [] };
  const seen = new Map<string, InputObject>();
  for (const obj of all) {
    const { apiVersion, kind, metadata } = obj.json;
    if (typeof apiVersion !== 'string' || !apiVersion || typeof kind !== 'string' || !kind) {
      problems.push({ path: documentName(obj.origin), message: `apiVersion and kind are required: every document must be a Kubernetes object (line ${obj.lineOf([])})` });
      continue;
    }
    const group = apiGroup(apiVersion);
    if (group === 'kustomize.config.k8s.io') {
      problems.push({ path: documentName(obj.origin), message: `${kind} is a kustomize file, not a Kubernetes object; run \`kustomize build\` and compile its output, so patches and transformers are applied` });
      continue;
    }
    if (group === '' && kind === 'List') {
      problems.push({ path: documentName(obj.origin), message: 'v1 List is not supported; write each item as its own YAML document' });
      continue;
    }
    if (group === '' && kind === 'Secret') {
      // The output is committed by the driver: Secret data in it would be in git history forever.
      problems.push({ path: `${documentName(obj.origin)} Secret ${typeof metadata?.namespace === 'string' ? metadata.namespace : 'default'}/${typeof metadata?.name === 'string' ? metadata.name : '<unnamed>'}`, message: `Secrets are never copied into the output folder, which is committed to git. Keep Secrets out of the files given to -f: apply them with the tool that manages them (Sealed Secrets, SOPS with Flux, External Secrets) or from a folder canarykit does not read; a MetricTemplate or AlertProvider refers to its Secret by name only (line ${obj.lineOf([])})` });
      continue;
    }
    const removed = removedApiProblem(apiVersion, kind);
    if (removed) {
      problems.push(fieldProblem(obj, ['apiVersion'], removed));
      continue;
    }
    const isFlaggerKind = (FLAGGER_KINDS as readonly string[]).includes(kind);
    if (group === FLAGGER_GROUP && !isFlaggerKind) {
      problems.push(fieldProblem(obj, ['kind'], `unknown kind "${kind}" in ${FLAGGER_GROUP}: canarykit compile reads ${FLAGGER_KINDS.join(', ')}`));
      continue;
    }
    if (isFlaggerKind && apiVersion !== FLAGGER_API_VERSION) {
      problems.push(fieldProblem(obj, ['apiVersion'], `wrong apiVersion "${apiVersion}" for ${kind}: Flagger resources are ${FLAGGER_API_VERSION}`));
      continue;
    }
    if (typeof metadata?.name !== 'string' || !metadata.name) {
      problems.push(fieldProblem(obj, ['metadata', 'name'], `is required (${kind} without a name; generateName is not supported because output must be reproducible)`));
      continue;
    }
    // Names become folders, file names and PromQL label values: checked before anything else uses them.
    const nsProblem = metadata.namespace === undefined ? undefined : namespaceProblem(metadata.namespace);
    if (nsProblem) {
      problems.push(fieldProblem(obj, ['metadata', 'namespace'], nsProblem));
      continue;
    }
    const nameProblem = kind === 'Canary' && group === FLAGGER_GROUP ? canaryNameProblem(metadata.name) : undefined;
    if (nameProblem) {
      problems.push(fieldProblem(obj, ['metadata', 'name'], nameProblem));
      continue;
    }
    const key = keyOf(obj);
    const first = seen.get(key);
    if (first) {
      problems.push({ path: `${documentName(obj.origin)} ${resourceName(obj)}`, message: `duplicate: ${documentName(first.origin)} already defines ${apiVersion} ${resourceName(obj)}; keep one of them` });
      continue;
    }
    seen.set(key, obj);
    if (isFlaggerKind) {
      const errs = validateFlaggerResource(obj, kind as FlaggerKind);
      problems.push(...errs);
      if (errs.length) continue;
      if (kind === 'Canary') inputs.canaries.push(obj);
      else if (kind === 'MetricTemplate') inputs.metricTemplates.push(obj);
      else inputs.alertProviders.push(obj);
    } else {
      inputs.objects.push(obj);
    }
  }
  return { inputs, problems };
}
