import { IConstruct } from 'constructs';
import { Problem } from '../errors';
import { Json, clone } from '../constructs/workload/deployment-json';
import type { IngressSpec } from 'cdk8s-plus-28/lib/imports/k8s';
import type { TemplateVars } from '../constructs/metrics/template';
import { userObject } from './user-object';
import { Router, RouterInput, RoutingObject } from './router';
import { adoptWith } from './adopt';
import { ProviderModule } from './module';

/** Options of the Skipper ingress provider. */
export interface SkipperOptions {
  /**
   * The user's Ingress (a cdk8s-plus Ingress, an L1 KubeIngress or an included object). Its rule
   * paths must route to the apex Service; canarykit clones it as `<name>-canary`.
   */
  readonly ingress: IConstruct;
}

const PREDICATE = 'zalando.org/skipper-predicate';
const BACKEND_WEIGHTS = 'zalando.org/backend-weights';
// Flagger's canaryRouteWeight / canaryRouteDisable predicates.
const WEIGHT = 'Weight(100)';
const DISABLE = 'False()';

/**
 * Skipper: the `<ingress>-canary` Ingress, each apex path pointed at the primary plus a copy for
 * the canary, weighted by Skipper's `backend-weights` annotation (src: pkg/router/skipper.go).
 */
export class SkipperRouter implements Router {
  readonly provider = 'skipper' as const;
  constructor(opts: SkipperOptions) {
    this.ingress = userObject(opts.ingress);
  }

  get ingressName(): string {
    return this.ingress().metadata.name;
  }

  /** The user's Ingress as JSON. */
  private readonly ingress: () => Json;

  validate(input: RouterInput): Problem[] {
    const problems: Problem[] = [];
    const a = input.analysis;
    const ing = this.ingress();
    if (ing.kind !== 'Ingress') return [{ path: 'provider.skipper.ingress', message: `must be an Ingress (got ${ing.kind})` }];
    const rules: Json[] = ing.spec?.rules ?? [];
    // Reconcile dereferences rule.http without a check: Flagger's controller fails on such a rule.
    rules.forEach((r, i) => {
      if (!r.http) problems.push({ path: 'provider.skipper.ingress', message: `Ingress "${ing.metadata.name}" spec.rules[${i}] has no http paths, which Flagger's Skipper router cannot handle; give it paths or drop the rule` });
    });
    // Only rule paths are rewritten (a defaultBackend is left alone).
    if (!rules.some((r) => (r.http?.paths ?? []).some((p: Json) => p.backend?.service?.name === input.names.apex))) {
      problems.push({ path: 'provider.skipper.ingress', message: `Ingress "${ing.metadata.name}" has no rule path to the apex Service "${input.names.apex}" (Flagger's Skipper router rewrites rule paths only, not the default backend); point a path at it` });
    }
    // SetRoutes: "TODO: A/B testing"; the mirror flag is ignored; no cookies.
    if (a.match.length) problems.push({ path: 'analysis.match', message: 'provider skipper cannot route by request attributes (Flagger\'s Skipper router has no A/B testing); remove match or use provider nginx, contour or istio' });
    if (a.mirror) problems.push({ path: 'analysis.mirror', message: 'provider skipper cannot mirror traffic (Flagger ignores mirror there); remove mirror or use provider istio' });
    if (a.sessionAffinity) problems.push({ path: 'analysis.sessionAffinity', message: 'provider skipper has no session affinity; remove it or use provider istio or gatewayApi' });
    return problems;
  }

  /** src: pkg/router/skipper.go Reconcile sets spec and annotations of an existing canary Ingress; its labels stay. */
  adopt(generated: RoutingObject, existing: Json): RoutingObject {
    return adoptWith(generated, existing, existing.metadata?.labels, generated.metadata.annotations);
  }

  render(input: RouterInput): RoutingObject<'Ingress', IngressSpec>[] {
    const ing = this.ingress();
    const { names, weights } = input;
    const spec = clone(ing.spec) as Json;
    for (const rule of spec.rules ?? []) {
      const paths: Json[] = rule.http?.paths ?? [];
      for (const p of [...paths]) {
        if (p.backend?.service?.name !== names.apex) continue;
        p.backend.service.name = names.primary;
        const copy = clone(p);
        copy.backend.service.name = names.canary;
        paths.push(copy);
      }
    }
    const annotations: Record<string, string> = { ...ing.metadata.annotations };
    // makeAnnotations: Go marshals the map with sorted keys.
    annotations[BACKEND_WEIGHTS] = JSON.stringify(Object.fromEntries([[names.canary, weights.canary], [names.primary, weights.primary]].sort(([x], [y]) => (x < y ? -1 : 1))));
    annotations[PREDICATE] = insertPredicate(annotations[PREDICATE], WEIGHT);
    // SetRoutes switches the canary Ingress off whenever it writes canary weight 0; Reconcile,
    // which alone runs while the canary initializes, never does.
    const initializing = input.phase === undefined || input.phase === 'Initializing' || input.phase === 'Initialized';
    if (weights.canary === 0 && !initializing) annotations[PREDICATE] = insertPredicate(annotations[PREDICATE], DISABLE);
    return [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: `${ing.metadata.name}-canary`, namespace: input.namespace, labels: ing.metadata.labels, annotations },
        spec: spec as IngressSpec,
      },
    ];
  }
}

/** insertPredicate: `insert` first, then the other predicates, without Flagger's own two. */
function insertPredicate(raw: string | undefined, insert: string): string {
  const rest = (raw ?? '').split('&&').map((p) => p.trim()).filter((p) => p !== '' && p !== WEIGHT && p !== DISABLE);
  return [insert, ...rest].join(' && ');
}

/** encodeModelForSkipper: every non-word character becomes `_`, as in Skipper's route IDs. */
function encodeVars(vars: TemplateVars): TemplateVars {
  const enc = (s: string): string => s.replace(/[^0-9A-Za-z_]/g, '_');
  return { ...vars, name: enc(vars.name), namespace: enc(vars.namespace), service: enc(vars.service), target: enc(vars.target), ingress: enc(vars.ingress) };
}

/** Skipper ingress backend weights; Flagger's skipper observer (Skipper route metrics). */
export const SKIPPER = {
  name: 'skipper',
  capabilities: {
    flaggerName: 'skipper',
    shiftsWeights: true,
    mirroring: false,
    sessionAffinity: false,
    matchKinds: [],
    promotionSteps: true,
  },
  observer: {
    name: 'skipper',
    // Query text of pkg/metrics/observers/skipper.go with its `$route` template variable written
    // out (canarykit's renderer has no printf): Skipper's route ID of the canary Ingress's paths to
    // the canary Service, `kube[ew]_<ns>__<ingress>_canary__<host>__<path>__<svc>_canary[_<n>]`.
    queries: {
    'request-success-rate': `
      sum(rate(skipper_response_duration_seconds_bucket{route=~"kube(ew)?_{{ namespace }}__{{ ingress }}_canary__.*__{{ service }}_canary(_[0-9]+)?",code!~"5..",le="+Inf"}[{{ interval }}])) /
      sum(rate(skipper_response_duration_seconds_bucket{route=~"kube(ew)?_{{ namespace }}__{{ ingress }}_canary__.*__{{ service }}_canary(_[0-9]+)?",le="+Inf"}[{{ interval }}])) * 100`,
    'request-duration': `
      sum(rate(skipper_serve_route_duration_seconds_sum{route=~"kube(ew)?_{{ namespace }}__{{ ingress }}_canary__.*__{{ service }}_canary(_[0-9]+)?"}[{{ interval }}])) /
      sum(rate(skipper_serve_route_duration_seconds_count{route=~"kube(ew)?_{{ namespace }}__{{ ingress }}_canary__.*__{{ service }}_canary(_[0-9]+)?"}[{{ interval }}])) * 1000`,
    },
    encodeVars,
  },
  flagger: {
    names: ['skipper'],
    fields: [['ingressRef']],
    ref: { field: 'ingressRef', group: 'networking.k8s.io', kind: 'Ingress', purpose: 'the Ingress that routes to the apex Service' },
    toOptions: (_spec, { ref }) => {
      if (!ref) throw new Error('internal: skipper canary without a resolved ingressRef');
      return { ingress: ref };
    },
  },
  router: (o: SkipperOptions) => new SkipperRouter(o),
} as const satisfies ProviderModule<'skipper', SkipperOptions>;
