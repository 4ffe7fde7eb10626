import { Problem } from '../errors';
import { Json } from '../constructs/workload/deployment-json';
import { ProviderModule, RolledOutTarget } from './module';
import { envoyQueries } from './envoy-observer';
import { RevisionRouter, Router, RouterInput, RoutingObject, StageRevisions, TargetField } from './router';

// Knative Serving: Flagger's KnativeController (pkg/canary/knative_controller.go) and KnativeRouter
// (pkg/router/knative.go) create nothing; they edit the user's Service: the annotation
// flagger.app/primary-revision and spec.traffic, split between the latest revision (the canary)
// and the annotated one (the primary).

/** The Knative Service apiVersion/kind Flagger accepts as target (canary.go IsKnativeService). */
const KNATIVE_SERVICE: RolledOutTarget = { apiVersion: 'serving.knative.dev/v1', kind: 'Service' };

/** Where Flagger records the primary revision (knative_controller.go Initialize, Promote). */
export const PRIMARY_REVISION_ANNOTATION = 'flagger.app/primary-revision';

/** A DNS-1035 label, which a revision name must be (Knative names a Deployment and Pods after it). */
const MAX_REVISION_NAME = 63;

/** Knative runs revision `<r>` as Deployment `<r>-deployment` (serving's names.Deployment). */
const DEPLOYMENT_SUFFIX = '-deployment';

/** Hex digits of the template hash in generated revision names: `podinfo-3f2a9c1b7d`. */
const HASH_DIGITS = 10;

/** One entry of `spec.traffic` as Flagger's serving.TrafficTarget serializes it (omitempty). */
interface TrafficTarget {
  latestRevision?: boolean;
  revisionName?: string;
  percent: number;
}

/**
 * Options of the Knative provider. There are none: the revisions, their names and the traffic
 * split all live in the target Service (`spec.template.metadata.name`, `spec.traffic`).
 */
export interface KnativeOptions {}

/**
 * Knative: the rollout happens in the Service itself. In git the revision names cannot come from
 * the cluster (status.latestCreatedRevisionName), so canarykit names every revision from its
 * template's hash (`spec.template.metadata.name`, kept when you set it) and derives the primary's
 * name from the promoted template in the state file.
 */
export class KnativeRouter implements Router, RevisionRouter {
  readonly provider = 'knative' as const;
  readonly apiVersion = KNATIVE_SERVICE.apiVersion;
  readonly kind = KNATIVE_SERVICE.kind;

  get revisions(): RevisionRouter {
    return this;
  }

  validate(input: RouterInput): Problem[] {
    const a = input.analysis;
    const problems: Problem[] = [];
    // knative.go SetRoutes writes two percentages and ignores `mirrored`; there are no matches or cookies.
    if (a.match.length) problems.push({ path: 'analysis.match', message: 'provider knative cannot route by request attributes (Flagger\'s Knative router only sets spec.traffic percentages, so an A/B run would send all traffic to the canary); remove match' });
    if (a.mirror) problems.push({ path: 'analysis.mirror', message: 'provider knative cannot mirror traffic (Flagger ignores mirror there); remove mirror' });
    if (a.sessionAffinity) problems.push({ path: 'analysis.sessionAffinity', message: 'provider knative has no session affinity; remove it' });
    return problems;
  }

  /** Nothing besides the target: Flagger's Knative router creates no object. */
  render(_input: RouterInput): RoutingObject[] {
    return [];
  }

  revisionName(targetName: string, template: Json, hash: string): string {
    const own = template?.metadata?.name;
    return typeof own === 'string' && own !== '' ? own : `${targetName}-${hash.slice(0, HASH_DIGITS)}`;
  }

  validateRevisions(targetName: string, r: StageRevisions): Problem[] {
    const problems: Problem[] = [];
    const at = 'target';
    // Knative's webhook rejects a revision name without the `<service>-` prefix.
    if (!r.canary.startsWith(`${targetName}-`)) problems.push({ path: at, message: `spec.template.metadata.name "${r.canary}" must start with "${targetName}-" (Knative requires the Service name as prefix); remove it to let canarykit name revisions` });
    // Longer names make Knative shorten the Deployment's name with a hash the driver cannot predict.
    const max = MAX_REVISION_NAME - DEPLOYMENT_SUFFIX.length;
    if (r.canary.length > max) problems.push({ path: at, message: `revision name "${r.canary}" is longer than ${max} characters (its Deployment "<revision>${DEPLOYMENT_SUFFIX}" must stay within ${MAX_REVISION_NAME}); use a shorter Service name or set a shorter spec.template.metadata.name` });
    else if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(r.canary)) problems.push({ path: at, message: `revision name "${r.canary}" must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter)` });
    // A changed template under the primary's name: Knative refuses to update the Service.
    if (r.canary === r.primary && r.canaryHash !== r.primaryHash) problems.push({ path: at, message: `spec.template.metadata.name "${r.canary}" names the primary revision, but the template changed; Knative rejects a changed template without a new revision name: change the name or remove it` });
    return problems;
  }

  workloads(r: StageRevisions): { primary: string; canary: string } {
    return { primary: `${r.primary}${DEPLOYMENT_SUFFIX}`, canary: `${r.canary}${DEPLOYMENT_SUFFIX}` };
  }

  targetFields(target: Json, r: StageRevisions, input: RouterInput): TargetField[] {
    const traffic: TrafficTarget[] = [
      { latestRevision: true, percent: input.weights.canary },
      { revisionName: r.primary, percent: input.weights.primary },
    ];
    return [
      // Initialize sets the annotation to the first revision, Promote to the latest one.
      { pointer: '/metadata/annotations', value: { ...target.metadata?.annotations, [PRIMARY_REVISION_ANNOTATION]: r.primary } },
      { pointer: '/spec/template/metadata', value: { ...target.spec?.template?.metadata, name: r.canary } },
      // Initialize / SetRoutes: the latest revision takes the canary weight, the primary the rest.
      { pointer: '/spec/traffic', value: traffic },
    ];
  }
}

/** Knative Serving: traffic split between revisions of your Service; Flagger's knative observer. */
export const KNATIVE = {
  name: 'knative',
  capabilities: {
    flaggerName: 'knative',
    shiftsWeights: true,
    mirroring: false,
    sessionAffinity: false,
    matchKinds: [],
    promotionSteps: true,
  },
  rollsOut: KNATIVE_SERVICE,
  observer: {
    name: 'knative',
    // Query text of pkg/metrics/observers/knative.go: Envoy (Kourier) clusters are named
    // `<namespace>/<revision>`; scheduler_metrics.go sets {{ route }} to the latest revision.
    queries: envoyQueries(['envoy_cluster_name=~"{{ namespace }}/{{ route }}"'], true),
  },
  flagger: {
    names: ['knative'],
    fields: [],
    toOptions: (): KnativeOptions => ({}),
  },
  router: (_o: KnativeOptions) => new KnativeRouter(),
} as const satisfies ProviderModule<'knative', KnativeOptions>;
