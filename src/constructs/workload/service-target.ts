import { CanaryWorkloadPlan } from '../../model/plan';
import { PrimarySnapshot } from '../../model/state';
import { computeRevision } from '../revision';
import { Json, clone, nonEmpty } from './deployment-json';
import { includeLabelsByPrefix } from './selector';

/**
 * A core/v1 Service as a Canary's target (Flagger's ServiceController, src:
 * pkg/canary/service_controller.go): no workload is copied; `<svc>-canary` follows the target
 * Service and `<svc>-primary` holds the spec promoted last. The revision is the Service spec
 * (HasTargetChanged hashes it).
 */
export interface ServiceTargetJson {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec?: Json;
}

/** A kubectl client-side apply annotation buildService drops from the copies. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function isServiceTarget(target: { apiVersion?: unknown; kind?: unknown }): boolean {
  return target.kind === 'Service' && target.apiVersion === 'v1';
}

/**
 * Fields set by the API server (or unique to one Service) that a copy cannot keep: createService
 * resets clusterIP for a ClusterIP Service so the API server assigns a new one. `type` unset is
 * ClusterIP, as the API server defaults it before Flagger reads the target.
 */
function withoutAssignedIp(spec: Json): Json {
  const out = clone(spec);
  if (out.type === undefined || out.type === 'ClusterIP') {
    delete out.clusterIP;
    delete out.clusterIPs;
  }
  return out;
}

/**
 * `<svc>-canary`: the target Service renamed (src: service_controller.go buildService, called by
 * reconcileCanaryService on every Initialize), all its labels and annotations but kubectl's
 * last-applied one, and `spec.service.trafficDistribution` when the Canary sets it.
 */
export function buildCanaryService(target: ServiceTargetJson, namespace: string, trafficDistribution: string | undefined): Json {
  const annotations = { ...target.metadata.annotations };
  delete annotations[LAST_APPLIED];
  const spec = withoutAssignedIp(target.spec ?? {});
  if (trafficDistribution) spec.trafficDistribution = trafficDistribution;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `${target.metadata.name}-canary`,
      namespace,
      labels: nonEmpty(target.metadata.labels ? { ...target.metadata.labels } : undefined),
      annotations: nonEmpty(annotations),
    },
    spec,
  };
}

/**
 * `<svc>-primary` from the primary snapshot (src: service_controller.go Promote): the promoted
 * target spec, and only the labels and annotations -include-label-prefix keeps (with Flagger's
 * default prefixes, none).
 */
export function buildPrimaryService(snapshot: PrimarySnapshot, targetName: string, namespace: string, includeLabelPrefix: readonly string[]): Json {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `${targetName}-primary`,
      namespace,
      labels: nonEmpty(snapshot.labels ? { ...snapshot.labels } : undefined),
      annotations: nonEmpty(includeLabelsByPrefix(snapshot.annotations, includeLabelPrefix)),
    },
    spec: withoutAssignedIp(snapshot.template),
  };
}

/**
 * The canary side of a Service target: the revision hashes the Service spec (src: service_controller.go
 * HasTargetChanged → hasSpecChanged over svc.Spec), the snapshot keeps that spec as `template` (the
 * primary snapshot of a state file then holds the promoted Service spec), the annotations, and the
 * labels -include-label-prefix copies. No workload settings, no ConfigMaps.
 */
export function serviceTargetPlan(target: ServiceTargetJson, includeLabelPrefix: readonly string[]): CanaryWorkloadPlan {
  const template = clone(target.spec ?? {});
  const labels = includeLabelsByPrefix(target.metadata.labels, includeLabelPrefix);
  return {
    revision: computeRevision(template, {}),
    template,
    workload: {},
    annotations: { ...target.metadata.annotations },
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    configMaps: {},
  };
}

/**
 * buildService copies the whole spec, so fixed node ports would be requested a second and a third
 * time: the API server refuses the copies and Flagger's Initialize never completes. Told at synth.
 */
export function serviceTargetProblems(target: ServiceTargetJson): string[] {
  const out: string[] = [];
  const ports: Json[] = Array.isArray(target.spec?.ports) ? target.spec!.ports : [];
  ports.forEach((p, i) => {
    if (typeof p.nodePort === 'number' && p.nodePort > 0) out.push(`spec.ports[${i}].nodePort ${p.nodePort} would be requested again by the -primary and -canary copies (Flagger's buildService copies the spec), which the API server refuses; remove it and let Kubernetes assign node ports`);
  });
  const hc = target.spec?.healthCheckNodePort;
  if (typeof hc === 'number' && hc > 0) out.push(`spec.healthCheckNodePort ${hc} would be requested again by the -primary and -canary copies, which the API server refuses; remove it`);
  return out;
}
