/**
 * apiVersions that Kubernetes 1.28 no longer serves, for the kinds a Flagger setup typically holds.
 * Flagger setups copied from old tutorials still carry them; without this table they fail later with
 * a misleading "not among the inputs" (the Canary looks the object up under its current group).
 * Source: the Kubernetes deprecated API migration guide (removed in 1.16, 1.22, 1.25 and 1.26).
 */
const REMOVED: Readonly<Record<string, { readonly removedIn: string; readonly replacement: string; readonly note?: string }>> = {
  'extensions/v1beta1 Ingress': { removedIn: '1.22', replacement: 'networking.k8s.io/v1', note: 'backends become service.name and service.port.number, and every path needs a pathType' },
  'networking.k8s.io/v1beta1 Ingress': { removedIn: '1.22', replacement: 'networking.k8s.io/v1', note: 'backends become service.name and service.port.number, and every path needs a pathType' },
  'networking.k8s.io/v1beta1 IngressClass': { removedIn: '1.22', replacement: 'networking.k8s.io/v1' },
  'autoscaling/v2beta1 HorizontalPodAutoscaler': { removedIn: '1.25', replacement: 'autoscaling/v2', note: 'targetAverageUtilization becomes target.averageUtilization' },
  'autoscaling/v2beta2 HorizontalPodAutoscaler': { removedIn: '1.26', replacement: 'autoscaling/v2' },
  'extensions/v1beta1 Deployment': { removedIn: '1.16', replacement: 'apps/v1', note: 'spec.selector is required' },
  'apps/v1beta1 Deployment': { removedIn: '1.16', replacement: 'apps/v1', note: 'spec.selector is required' },
  'apps/v1beta2 Deployment': { removedIn: '1.16', replacement: 'apps/v1', note: 'spec.selector is required' },
  'extensions/v1beta1 DaemonSet': { removedIn: '1.16', replacement: 'apps/v1', note: 'spec.selector is required' },
  'apps/v1beta2 DaemonSet': { removedIn: '1.16', replacement: 'apps/v1', note: 'spec.selector is required' },
  'policy/v1beta1 PodDisruptionBudget': { removedIn: '1.25', replacement: 'policy/v1' },
};

/** Why `apiVersion`/`kind` cannot be used, and what to write instead; undefined when it is served. */
export function removedApiProblem(apiVersion: string, kind: string): string | undefined {
  const r = REMOVED[`${apiVersion} ${kind}`];
  if (!r) return undefined;
  return `${kind} ${apiVersion} was removed in Kubernetes ${r.removedIn}; write it as ${r.replacement}${r.note ? ` (${r.note})` : ''}`;
}
