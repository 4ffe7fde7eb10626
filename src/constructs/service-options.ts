/** Labels and annotations for one generated Service (Flagger's `service.apex|primary|canary`). */
export interface ObjectMetadataOptions {
  /** Labels added to the Service. @default - none */
  readonly labels?: Record<string, string>;
  /** Annotations added to the Service. @default - none */
  readonly annotations?: Record<string, string>;
}

/** The Services canarykit generates: `<name>`, `<name>-primary`, `<name>-canary` (Flagger's `spec.service`). */
export interface CanaryServiceOptions {
  /**
   * Apex Service name; `-primary` and `-canary` are derived from it.
   * @default - the target Deployment's name
   */
  readonly name?: string;
  /** Port the Services expose. */
  readonly port: number;
  /**
   * Container port (number or name) traffic goes to.
   * @default - same as `port`
   */
  readonly targetPort?: number | string;
  /**
   * Name of the first Service port.
   * @default 'http'
   */
  readonly portName?: string;
  /**
   * `appProtocol` of the first port.
   * @default - unset
   */
  readonly appProtocol?: string;
  /**
   * `spec.trafficDistribution` of the three Services (Flagger's `service.trafficDistribution`):
   * a routing preference of kube-proxy. The cluster must know the field: PreferClose needs
   * Kubernetes 1.31 (1.30 with the ServiceTrafficDistribution feature gate), PreferSameZone and
   * PreferSameNode 1.34; an older API server rejects the Services on apply.
   * @default - unset
   */
  readonly trafficDistribution?: 'PreferClose' | 'PreferSameZone' | 'PreferSameNode';
  /**
   * Also expose every other container port (named `tcp-<container>-<index>` when unnamed).
   * @default false
   */
  readonly portDiscovery?: boolean;
  /**
   * Headless Services (`clusterIP: None`).
   * @default false
   */
  readonly headless?: boolean;
  /** Labels and annotations of the apex Service (and the routing objects). @default - no extra metadata */
  readonly apex?: ObjectMetadataOptions;
  /** Labels and annotations of the `-primary` Service. @default - no extra metadata */
  readonly primary?: ObjectMetadataOptions;
  /** Labels and annotations of the `-canary` Service. @default - no extra metadata */
  readonly canary?: ObjectMetadataOptions;
}
