import { Json, clone, nonEmpty, withoutFluxKeys } from './deployment-json';

/** Replica bounds for the primary autoscaler (Flagger's `autoscalerRef.primaryScalerReplicas`). */
export interface ScalerReplicas {
  /** Minimum replicas of the primary. @default - the user HPA's minReplicas */
  readonly minReplicas?: number;
  /** Maximum replicas of the primary. @default - the user HPA's maxReplicas */
  readonly maxReplicas?: number;
}

/**
 * `<hpa>-primary`: the user's HPA retargeted at `<target>-primary` (reference §2.5). Unlike
 * Flagger, HPA edits reach the primary with the next synth instead of waiting for a promotion.
 */
export function buildPrimaryAutoscaler(hpa: Json, primaryName: string, namespace: string, override?: ScalerReplicas): Json {
  const spec = clone(hpa.spec ?? {});
  return {
    apiVersion: hpa.apiVersion,
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: `${hpa.metadata.name}-primary`, namespace, labels: nonEmpty(withoutFluxKeys(hpa.metadata.labels)) },
    spec: {
      ...spec,
      scaleTargetRef: { ...spec.scaleTargetRef, name: primaryName },
      minReplicas: override?.minReplicas ?? spec.minReplicas,
      maxReplicas: override?.maxReplicas ?? spec.maxReplicas,
    },
  };
}
