import type { FlaggerCanarySpec } from '../compile/flagger-types';
import { ACCESS_LOG_ANNOTATION, AppMeshRouterOptions } from './appmesh-common';
import { AppMeshV1beta1Router } from './appmesh-v1beta1';
import { AppMeshV1beta2Router } from './appmesh-v1beta2';
import { FlaggerMapping, Observer, ProviderModule, RoutingCapabilities, Unsupported } from './module';
import { envoyQueries } from './envoy-observer';

export type { AppMeshApiVersion, AppMeshOptions, AppMeshRetryOptions } from './appmesh-common';

/**
 * Flagger's appmesh observer (src: pkg/metrics/observers/appmesh.go), for both API versions
 * (observers/factory.go matches the `appmesh` prefix): the Envoy sidecar's upstream request
 * metrics of the canary pods. Envoy's upstream_rq_time is in milliseconds already: no `* 1000`.
 */
const APPMESH_OBSERVER: Observer = {
  name: 'appmesh',
  queries: envoyQueries(['kubernetes_namespace="{{ namespace }}"', 'kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"'], false),
};

/** Both routers: weights and header matches; no mirroring, no cookies (Flagger steps the promotion). */
function capabilities(flaggerName: string): RoutingCapabilities {
  return { flaggerName, shiftsWeights: true, mirroring: false, sessionAffinity: false, matchKinds: ['headers'], promotionSteps: true };
}

/** service.match: both routers read `match[0].uri.prefix` ("App Mesh supports only URI prefix") and nothing else. */
function serviceMatchProblems(spec: FlaggerCanarySpec, flaggerName: string): Unsupported[] {
  const out: Unsupported[] = [];
  (spec.service.match ?? []).forEach((m, i) => {
    for (const [key, value] of Object.entries(m)) {
      const uriPrefixOnly = i === 0 && key === 'uri' && Object.keys(value ?? {}).every((k) => k === 'prefix');
      if (!uriPrefixOnly) {
        out.push({ segments: ['spec', 'service', 'match', i, key], message: `is ignored by provider ${flaggerName} (Flagger reads only service.match[0].uri.prefix, the route prefix); remove it` });
      }
    }
  });
  return out;
}

/** The Flagger mapping of one API version; v1beta1 also reads `service.meshName`. */
function mapping(flaggerName: string, meshName: boolean): FlaggerMapping<AppMeshRouterOptions> {
  const fields = [['service', 'backends'], ['service', 'hosts'], ['service', 'match'], ['service', 'retries'], ['service', 'timeout']];
  return {
    names: [flaggerName],
    fields: meshName ? [['service', 'meshName'], ...fields] : fields,
    unsupported: (spec) => serviceMatchProblems(spec, flaggerName),
    toOptions: (spec, { duration, annotations }) => {
      const s = spec.service;
      return {
        meshName: meshName ? s.meshName || undefined : undefined,
        backends: s.backends?.length ? s.backends : undefined,
        hosts: s.hosts?.length ? s.hosts : undefined,
        pathPrefix: s.match?.[0]?.uri?.prefix || undefined,
        timeout: duration(s.timeout || undefined, ['spec', 'service', 'timeout']),
        timeoutText: s.timeout || undefined,
        retries: s.retries && {
          attempts: s.retries.attempts,
          perTryTimeout: duration(s.retries.perTryTimeout || undefined, ['spec', 'service', 'retries', 'perTryTimeout']),
          retryOn: s.retries.retryOn || undefined,
        },
        accessLog: annotations[ACCESS_LOG_ANNOTATION] === 'enabled',
      };
    },
  };
}

// router/factory.go: `appmesh` gets AppMeshRouter, any `appmesh:v1beta2...` AppMeshv1beta2Router.
/** AWS App Mesh, controller 0.x (appmesh.k8s.aws/v1beta1); Flagger's appmesh observer. */
export const APPMESH = {
  name: 'appmesh',
  capabilities: capabilities('appmesh'),
  observer: APPMESH_OBSERVER,
  // observers/factory.go matches the appmesh prefix, so `appmesh:service` keeps this observer.
  observerMatchesServiceSuffix: true,
  flagger: mapping('appmesh', true),
  router: (o: AppMeshRouterOptions) => new AppMeshV1beta1Router(o),
} as const satisfies ProviderModule<'appmesh', AppMeshRouterOptions>;

/** AWS App Mesh, controller 1.x (appmesh.k8s.aws/v1beta2); Flagger's appmesh observer. */
export const APPMESH_V1BETA2 = {
  name: 'appmeshv1beta2',
  capabilities: capabilities('appmesh:v1beta2'),
  observer: APPMESH_OBSERVER,
  // observers/factory.go matches the appmesh prefix, so `appmesh:service` keeps this observer.
  observerMatchesServiceSuffix: true,
  flagger: mapping('appmesh:v1beta2', false),
  router: (o: AppMeshRouterOptions) => new AppMeshV1beta2Router(o),
} as const satisfies ProviderModule<'appmeshv1beta2', AppMeshRouterOptions>;
