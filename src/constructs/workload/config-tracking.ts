import { Json, clone } from './deployment-json';

/** A ConfigMap the pod spec refers to, and whether every reference to it is optional. */
export interface ConfigMapRef {
  readonly name: string;
  readonly optional: boolean;
}

/** Annotation that opts a ConfigMap out of tracking (Flagger: any value starting with `disable`). */
export const CONFIG_TRACKING_ANNOTATION = 'flagger.app/config-tracking';

type Visitor = (holder: Json, key: string, optional: boolean) => void;

/**
 * Walks every ConfigMap reference Flagger's config tracker knows: volumes (configMap and projected
 * sources) and env/envFrom of containers and initContainers.
 */
function visitConfigMapRefs(podSpec: Json, visit: Visitor): void {
  for (const vol of podSpec.volumes ?? []) {
    if (vol.configMap?.name) visit(vol.configMap, 'name', vol.configMap.optional === true);
    for (const src of vol.projected?.sources ?? []) {
      if (src.configMap?.name) visit(src.configMap, 'name', src.configMap.optional === true);
    }
  }
  for (const c of [...(podSpec.containers ?? []), ...(podSpec.initContainers ?? [])]) {
    for (const env of c.env ?? []) {
      const ref = env.valueFrom?.configMapKeyRef;
      if (ref?.name) visit(ref, 'name', ref.optional === true);
    }
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef?.name) visit(from.configMapRef, 'name', from.configMapRef.optional === true);
    }
  }
}

/** Every ConfigMap referenced by the pod spec, sorted by name; optional only if all refs are. */
export function findConfigMapRefs(podSpec: Json): ConfigMapRef[] {
  const found = new Map<string, boolean>();
  visitConfigMapRefs(podSpec, (holder, key, optional) => {
    const name = holder[key] as string;
    found.set(name, (found.get(name) ?? true) && optional);
  });
  // Code-unit order, not localeCompare: the order reaches the plan file and must not depend on LANG.
  return [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, optional]) => ({ name, optional }));
}

/** A copy of the pod spec whose references to the tracked ConfigMaps point at their `-primary` copies. */
export function renameTrackedConfigMaps(podSpec: Json, tracked: ReadonlySet<string>): Json {
  const copy = clone(podSpec);
  visitConfigMapRefs(copy, (holder, key) => {
    if (tracked.has(holder[key])) holder[key] = `${holder[key]}-primary`;
  });
  return copy;
}
