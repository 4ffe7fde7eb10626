import { Json, clone, nonEmpty, withoutFluxKeys } from './deployment-json';
import { ScalerReplicas } from './autoscaler';

// KEDA ScaledObjects in autoscalerRef (src: pkg/canary/scaled_object_reconciler.go).

export const SCALED_OBJECT_API_VERSION = 'keda.sh/v1alpha1';
/** KEDA holds the target at this replica count while the annotation is set (src: keda.PausedReplicasAnnotation). */
export const PAUSED_REPLICAS_ANNOTATION = 'autoscaling.keda.sh/paused-replicas';

/** Whether `obj` is a KEDA ScaledObject. */
export function isScaledObject(obj: Json | undefined): boolean {
  return obj?.kind === 'ScaledObject' && obj?.apiVersion === SCALED_OBJECT_API_VERSION;
}

/**
 * `<scaledobject>-primary` as reconcilePrimaryScaler builds it: retargeted at `<target>-primary`,
 * trigger queries moved to the primary (setPrimaryScaledObjectQueries), the KEDA HPA name
 * suffixed (setPrimaryScaledObjectHPA), min/max from primaryScalerReplicas. Only the spec fields
 * Flagger's ScaledObject type carries are copied, as Flagger's Go struct drops the others. The
 * paused-replicas annotation is left out: it is the target's, never the primary's.
 */
export function buildPrimaryScaledObject(so: Json, targetName: string, namespace: string, queries?: Record<string, string>, override?: ScalerReplicas): Json {
  const spec = clone(so.spec ?? {}) as Json;
  const ref = spec.scaleTargetRef ?? {};
  const hpaConfig = spec.advanced?.horizontalPodAutoscalerConfig ?? {};
  const advanced = {
    horizontalPodAutoscalerConfig: pick({ ...hpaConfig, ...(hpaConfig.name ? { name: `${hpaConfig.name}-primary` } : {}) }, ['name', 'behavior']),
    ...pick(spec.advanced ?? {}, ['restoreToOriginalReplicaCount']),
  };
  const annotations = withoutFluxKeys(so.metadata?.annotations);
  delete annotations[PAUSED_REPLICAS_ANNOTATION];
  return {
    apiVersion: SCALED_OBJECT_API_VERSION,
    kind: 'ScaledObject',
    metadata: { name: `${so.metadata.name}-primary`, namespace, labels: nonEmpty(withoutFluxKeys(so.metadata?.labels)), annotations: nonEmpty(annotations) },
    spec: {
      scaleTargetRef: pick({ ...ref, name: `${targetName}-primary` }, ['name', 'apiVersion', 'kind', 'envSourceContainerName']),
      ...pick(spec, ['pollingInterval', 'cooldownPeriod', 'idleReplicaCount']),
      minReplicaCount: override?.minReplicas ?? spec.minReplicaCount,
      maxReplicaCount: override?.maxReplicas ?? spec.maxReplicaCount,
      advanced,
      triggers: (spec.triggers ?? []).map((t: Json) => primaryTrigger(t, targetName, queries)),
      ...(spec.fallback ? { fallback: pick(spec.fallback, ['failureThreshold', 'replicas']) } : {}),
    },
  };
}

function primaryTrigger(trigger: Json, targetName: string, queries: Record<string, string> | undefined): Json {
  const t = pick(trigger, ['type', 'name', 'metadata', 'authenticationRef', 'metricType']);
  if (t.authenticationRef) t.authenticationRef = pick(t.authenticationRef, ['name', 'kind']);
  const metadata: Record<string, string> = { ...t.metadata };
  if (queries) {
    // With primaryScalerQueries only named triggers change: the query is replaced outright.
    if (t.name !== undefined && Object.prototype.hasOwnProperty.call(queries, t.name)) metadata.query = queries[t.name];
  } else if (typeof metadata.query === 'string') {
    metadata.query = primaryQuery(metadata.query, targetName);
  }
  return { ...t, metadata };
}

/**
 * Flagger's best-effort rewrite: `<target>-canary` and `<target>` both become `<target>-primary`,
 * never `<target>-primary-primary`. Flagger hides `-canary` behind a random placeholder; splitting
 * on it does the same without randomness.
 */
export function primaryQuery(query: string, targetName: string): string {
  const primary = `${targetName}-primary`;
  return query.split(`${targetName}-canary`).map((part) => part.split(targetName).join(primary)).join(primary);
}

/** The target's ScaledObject with KEDA paused at 0 replicas (PauseTargetScaler) or resumed (ResumeTargetScaler). */
export function pausedAnnotations(so: Json, paused: boolean): Record<string, string> | undefined {
  const annotations: Record<string, string> = { ...so.metadata?.annotations };
  if (paused) annotations[PAUSED_REPLICAS_ANNOTATION] = '0';
  else delete annotations[PAUSED_REPLICAS_ANNOTATION];
  return nonEmpty(annotations);
}

function pick(obj: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
