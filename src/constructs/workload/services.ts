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
