/** A Kubernetes manifest as plain JSON. */
export type Manifest = Record<string, any>;

/**
 * Objects the user already has (in the cluster, or in the YAML canarykit compiles), looked up by
 * identity. A Canary takes over the one that has the group, kind, namespace and name of an object
 * it generates, as Flagger does when that object exists before the Canary (issue 11).
 */
export interface ExistingObjects {
  /**
   * The manifest with this API group (`''` for the core group), kind, namespace (undefined for a
   * cluster-scoped kind) and name, if there is one. The Canary does not change what it gets.
   */
  find(group: string, kind: string, namespace: string | undefined, name: string): Manifest | undefined;
}

/**
 * `ExistingObjects` over a list of manifests. A manifest without metadata.namespace, and a lookup
 * without one, mean `default` (as `kubectl apply` without a namespace does; a cluster-scoped kind
 * has none either way); the first manifest of an identity wins.
 */
export function existingObjects(manifests: readonly Manifest[]): ExistingObjects {
  const byKey = new Map<string, Manifest>();
  for (const m of manifests) {
    const apiVersion = String(m.apiVersion);
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    const key = identity(group, String(m.kind), m.metadata?.namespace, String(m.metadata?.name));
    if (!byKey.has(key)) byKey.set(key, m);
  }
  return { find: (group, kind, namespace, name) => byKey.get(identity(group, kind, namespace, name)) };
}

function identity(group: string, kind: string, namespace: string | undefined, name: string): string {
  return `${group}|${kind}|${namespace ?? 'default'}|${name}`;
}
