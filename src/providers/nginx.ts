import { IConstruct } from 'constructs';
import { Problem } from '../errors';
import { Json, clone } from '../constructs/workload/deployment-json';
import type { IngressSpec } from 'cdk8s-plus-28/lib/imports/k8s';
import { userObject } from './user-object';
import { Router, RouterInput, RoutingObject } from './router';
import { adoptWith } from './adopt';
import { ProviderModule } from './module';

/** Options of the NGINX ingress provider. */
export interface NginxOptions {
  /**
   * The user's Ingress (a cdk8s-plus Ingress, an L1 KubeIngress or an included object). It must
   * route to the apex Service; canarykit clones it as `<name>-canary`.
   */
  readonly ingress: IConstruct;
  /** Annotation prefix of the ingress controller. @default - the CanaryApp's `controller.ingressAnnotationsPrefix` (Flagger's -ingress-annotations-prefix, 'nginx.ingress.kubernetes.io') */
  readonly annotationsPrefix?: string;
}

/** NGINX: the `<ingress>-canary` Ingress carrying `canary-*` annotations (reference §2.7). */
export class NginxRouter implements Router {
  readonly provider = 'nginx' as const;
  constructor(private readonly opts: NginxOptions) {
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
    if (ing.kind !== 'Ingress') {
      problems.push({ path: 'provider.nginx.ingress', message: `must be an Ingress (got ${ing.kind})` });
      return problems;
    }
    if (!backendsOf(ing.spec).some((b) => b.service?.name === input.names.apex)) {
      problems.push({ path: 'provider.nginx.ingress', message: `Ingress "${ing.metadata.name}" has no backend for the apex Service "${input.names.apex}"; point a path at it` });
    }
    if (a.mirror) problems.push({ path: 'analysis.mirror', message: 'NGINX cannot mirror traffic; remove mirror or use provider istio' });
    if (a.sessionAffinity) problems.push({ path: 'analysis.sessionAffinity', message: 'NGINX canary routing has no session affinity; remove it or use provider istio or gatewayApi' });
    a.match.forEach((m, i) => {
      const unsupported = Object.keys(m).filter((k) => k !== 'headers');
      if (unsupported.length) problems.push({ path: `analysis.match[${i}]`, message: `NGINX can only match headers and cookies (got ${unsupported.join(', ')})` });
      for (const [h, sm] of Object.entries(m.headers ?? {})) {
        // ingress.go SetRoutes: only the lowercase key `cookie` is a cookie match; `Cookie` is an ordinary header.
        if (h === 'cookie' ? !sm.exact : !sm.exact && !sm.regex) {
          problems.push({ path: `analysis.match[${i}].headers.${h}`, message: h === 'cookie' ? 'NGINX matches cookies by exact name only; use { exact: "<cookie name>" }' : 'NGINX supports exact or regex header matches only' });
        }
      }
    });
    const headerCount = a.match.flatMap((m) => Object.keys(m.headers ?? {}).filter((h) => h !== 'cookie')).length;
    const cookieCount = a.match.flatMap((m) => Object.keys(m.headers ?? {}).filter((h) => h === 'cookie')).length;
    if (headerCount > 1 || cookieCount > 1) {
      problems.push({ path: 'analysis.match', message: 'NGINX supports one header and one cookie match per canary; keep a single header and a single cookie' });
    }
    return problems;
  }

  /**
   * src: pkg/router/ingress.go Reconcile updates the spec of an existing canary Ingress; SetRoutes
   * then rewrites its own annotations (makeAnnotations drops the canary ones and kubectl's
   * last-applied-configuration, then sets the stage's): the user's labels and other annotations stay.
   */
  adopt(generated: RoutingObject, existing: Json, input: RouterInput): RoutingObject {
    const prefix = this.opts.annotationsPrefix ?? input.controller.ingressAnnotationsPrefix;
    const managed = (k: string): boolean => k.includes(`${prefix}/canary`);
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries<string>(existing.metadata?.annotations ?? {})) {
      if (!managed(k) && k !== 'kubectl.kubernetes.io/last-applied-configuration') annotations[k] = v;
    }
    for (const [k, v] of Object.entries(generated.metadata.annotations ?? {})) if (managed(k)) annotations[k] = v;
    return adoptWith(generated, existing, existing.metadata?.labels, annotations);
  }

  render(input: RouterInput): RoutingObject<'Ingress', IngressSpec>[] {
    const ing = this.ingress();
    const spec = clone(ing.spec);
    for (const b of backendsOf(spec)) if (b.service?.name === input.names.apex) b.service.name = input.names.canary;
    // The option, else the controller's -ingress-annotations-prefix (src: pkg/router/ingress.go GetAnnotationWithPrefix).
    const prefix = this.opts.annotationsPrefix ?? input.controller.ingressAnnotationsPrefix;
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries<string>(ing.metadata.annotations ?? {})) {
      if (!k.includes(`${prefix}/canary`) && k !== 'kubectl.kubernetes.io/last-applied-configuration') annotations[k] = v;
    }
    annotations[`${prefix}/canary`] = 'true';
    annotations[`${prefix}/canary-weight`] = '0';
    const { canary } = input.weights;
    if (canary > 0 && input.analysis.match.length > 0) {
      for (const m of input.analysis.match) {
        for (const [h, sm] of Object.entries(m.headers ?? {})) {
          if (h === 'cookie') {
            annotations[`${prefix}/canary-by-cookie`] = sm.exact!;
          } else {
            annotations[`${prefix}/canary-by-header`] = h;
            if (sm.exact) annotations[`${prefix}/canary-by-header-value`] = sm.exact;
            if (sm.regex) annotations[`${prefix}/canary-by-header-pattern`] = sm.regex;
          }
        }
      }
    } else {
      annotations[`${prefix}/canary-weight`] = String(canary);
    }
    return [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: `${ing.metadata.name}-canary`, namespace: input.namespace, labels: ing.metadata.labels, annotations },
        spec,
      },
    ];
  }
}

/** Every service backend of an Ingress spec (default backend and rule paths), mutable in place. */
function backendsOf(spec: Json | undefined): Json[] {
  const out: Json[] = [];
  if (spec?.defaultBackend) out.push(spec.defaultBackend);
  for (const rule of spec?.rules ?? []) for (const p of rule.http?.paths ?? []) if (p.backend) out.push(p.backend);
  return out;
}

/** NGINX ingress canary annotations; Flagger's nginx observer (nginx.go). */
export const NGINX = {
  name: 'nginx',
  capabilities: {
    flaggerName: 'nginx',
    shiftsWeights: true,
    mirroring: false,
    sessionAffinity: false,
    matchKinds: ['headers', 'cookies'],
    promotionSteps: true,
  },
  observer: {
    name: 'nginx',
    // Query text kept byte for byte (plans carry it; the Prometheus client collapses whitespace).
    queries: {
    'request-success-rate': `
      sum(
        rate(
          nginx_ingress_controller_requests{
            namespace="{{ namespace }}",
            ingress="{{ ingress }}",
            canary!="",
            status!~"5.*"
          }[{{ interval }}]
        )
      )
      /
      sum(
        rate(
          nginx_ingress_controller_requests{
            namespace="{{ namespace }}",
            ingress="{{ ingress }}",
            canary!=""
          }[{{ interval }}]
        )
      )
      * 100`,
    'request-duration': `
      sum(
        rate(
          nginx_ingress_controller_response_duration_seconds_sum{
            namespace="{{ namespace }}",
            ingress="{{ ingress }}",
            canary!=""
          }[{{ interval }}]
        )
      )
      /
      sum(
        rate(
          nginx_ingress_controller_response_duration_seconds_count{
            namespace="{{ namespace }}",
            ingress="{{ ingress }}",
            canary!=""
          }[{{ interval }}]
        )
      )
      * 1000`,
    },
  },
  flagger: {
    names: ['nginx'],
    fields: [['ingressRef']],
    ref: { field: 'ingressRef', group: 'networking.k8s.io', kind: 'Ingress', purpose: 'the Ingress that routes to the apex Service' },
    toOptions: (_spec, { ref }) => {
      if (!ref) throw new Error('internal: nginx canary without a resolved ingressRef');
      return { ingress: ref };
    },
  },
  router: (o: NginxOptions) => new NginxRouter(o),
} as const satisfies ProviderModule<'nginx', NginxOptions>;
