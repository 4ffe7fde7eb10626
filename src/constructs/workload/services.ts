import { CanaryServiceOptions, ObjectMetadataOptions } from '../service-options';
import { Json, nonEmpty } from './deployment-json';
import { SelectorLabel } from './selector';

/** Resolved names of the three Services. */
export interface ServiceNames {
  readonly apex: string;
  readonly primary: string;
  readonly canary: string;
}

export function serviceNames(apex: string): ServiceNames {
  return { apex, primary: `${apex}-primary`, canary: `${apex}-canary` };
}

/** Service ports per Flagger's getPorts (reference §2.4). */
export function servicePorts(opts: CanaryServiceOptions, podSpec: Json): Json[] {
  const targetPort = opts.targetPort ?? opts.port;
  const first: Json = {
    name: opts.portName ?? 'http',
    protocol: 'TCP',
    port: opts.port,
    targetPort,
    appProtocol: opts.appProtocol,
  };
  if (!opts.portDiscovery) return [first];
  const extra: Json[] = [];
  for (const c of podSpec.containers ?? []) {
    if (c.name === 'istio-proxy' || c.name === 'envoy') continue;
    (c.ports ?? []).forEach((p: Json, i: number) => {
      const port = p.containerPort as number;
      if (port === opts.port || port === targetPort || (typeof targetPort === 'string' && p.name === targetPort)) return;
      extra.push({ name: p.name ?? `tcp-${c.name}-${i}`, protocol: 'TCP', port, targetPort: port });
    });
  }
  // Flagger iterates a Go map here; sorting by port keeps the output stable.
  extra.sort((a, b) => a.port - b.port);
  return [first, ...extra];
}

/** The apex, primary and canary Services (apex and primary select primary pods). */
export function buildServices(
  names: ServiceNames,
  namespace: string,
  selector: SelectorLabel,
  opts: CanaryServiceOptions,
  podSpec: Json,
): Json[] {
  const ports = servicePorts(opts, podSpec);
  const primaryValue = `${selector.value}-primary`;
  const make = (name: string, selectValue: string, meta: ObjectMetadataOptions | undefined): Json => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      labels: { ...meta?.labels, [selector.key]: name },
      annotations: nonEmpty(meta?.annotations),
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: opts.headless ? 'None' : undefined,
      selector: { [selector.key]: selectValue },
      ports,
      // src: pkg/router/kubernetes_default.go reconcileService: set on all three when given.
      trafficDistribution: opts.trafficDistribution,
    },
  });
  return [
    make(names.apex, primaryValue, opts.apex),
    make(names.primary, primaryValue, opts.primary),
    make(names.canary, selector.value, opts.canary),
  ];
}

/**
 * A Service the user already has, taken over as Flagger does (src: pkg/router/kubernetes_default.go
 * reconcileService, update branch): the selector and the ports become the Canary's, each port keeping
 * the nodePort of the existing port of the same name; everything else (type, clusterIP,
 * externalTrafficPolicy, sessionAffinity, extra fields, labels, annotations) stays as the user wrote
 * it. Only a Service whose controller is this Canary (an ownerReference Flagger set) gets the
 * Canary's labels and annotations.
 */
export function adoptService(generated: Json, existing: Json, canaryName: string): Json {
  const out: Json = structuredClone(existing);
  out.apiVersion = generated.apiVersion;
  out.metadata = { ...out.metadata, name: generated.metadata.name, namespace: generated.metadata.namespace };
  const oldPorts: Json[] = Array.isArray(existing.spec?.ports) ? existing.spec.ports : [];
  const ports = (generated.spec.ports as Json[]).map((p) => {
    const same = oldPorts.find((o) => o.name === p.name && typeof o.nodePort === 'number' && o.nodePort > 0);
    return same ? { ...p, nodePort: same.nodePort } : { ...p };
  });
  out.spec = { ...out.spec, selector: { ...generated.spec.selector }, ports };
  if (ownedByCanary(existing, canaryName)) {
    out.metadata.labels = { ...generated.metadata.labels };
    if (generated.metadata.annotations) out.metadata.annotations = { ...generated.metadata.annotations };
    else delete out.metadata.annotations;
  }
  return out;
}

/** src: kubernetes_default.go isOwnedByCanary: the controller ownerReference is a Canary of that name. */
export function ownedByCanary(obj: Json, canaryName: string): boolean {
  const refs: Json[] = Array.isArray(obj.metadata?.ownerReferences) ? obj.metadata.ownerReferences : [];
  const controller = refs.find((r) => r.controller === true);
  return controller?.kind === 'Canary' && controller.name === canaryName;
}
