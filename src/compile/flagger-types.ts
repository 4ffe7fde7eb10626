/**
 * The shapes of Flagger's `flagger.app/v1beta1` resources as read from YAML, after schema
 * validation (src/compile/schema.ts). Only the fields canarykit reads are typed; the schema has
 * already rejected unknown ones.
 */

export const FLAGGER_API_VERSION = 'flagger.app/v1beta1';
export const FLAGGER_GROUP = 'flagger.app';

/** The Flagger kinds `canarykit compile` reads. */
export const FLAGGER_KINDS = ['Canary', 'MetricTemplate', 'AlertProvider'] as const;
export type FlaggerKind = (typeof FLAGGER_KINDS)[number];

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface CrossRef {
  apiVersion: string;
  kind: string;
  name: string;
}

export interface FlaggerStringMatch {
  exact?: string;
  prefix?: string;
  suffix?: string;
  regex?: string;
}

export interface FlaggerMatch {
  uri?: FlaggerStringMatch;
  method?: FlaggerStringMatch;
  scheme?: FlaggerStringMatch;
  authority?: FlaggerStringMatch;
  headers?: Record<string, FlaggerStringMatch>;
  queryParams?: Record<string, FlaggerStringMatch>;
  sourceLabels?: Record<string, string>;
  port?: number;
  name?: string;
  ignoreUriCase?: boolean;
  withoutHeaders?: Record<string, FlaggerStringMatch>;
  sourceNamespace?: string;
  gateways?: string[];
  [unsupported: string]: unknown;
}

export interface FlaggerMetadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface FlaggerService {
  name?: string;
  port: number;
  portName?: string;
  targetPort?: number | string;
  appProtocol?: string;
  portDiscovery?: boolean;
  headless?: boolean;
  trafficDistribution?: string;
  unmanagedMetadata?: { labels?: string[]; annotations?: string[] };
  hosts?: string[];
  gateways?: string[];
  gatewayRefs?: Array<{ name: string; namespace?: string; sectionName?: string; port?: number; group?: string; kind?: string }>;
  delegation?: boolean;
  trafficPolicy?: Record<string, unknown>;
  match?: FlaggerMatch[];
  rewrite?: { uri?: string; authority?: string; type?: string };
  retries?: { attempts?: number; perTryTimeout?: string; retryOn?: string };
  timeout?: string;
  backendTimeout?: string;
  headers?: Record<string, any>;
  corsPolicy?: Record<string, unknown>;
  meshName?: string;
  backends?: string[];
  apex?: FlaggerMetadata;
  primary?: FlaggerMetadata;
  canary?: FlaggerMetadata;
  [other: string]: unknown;
}

export interface FlaggerMetric {
  name: string;
  interval?: string;
  threshold?: number;
  thresholdRange?: { min?: number; max?: number };
  query?: string;
  templateRef?: { name: string; namespace?: string };
  templateVariables?: Record<string, string>;
}

export interface FlaggerWebhook {
  name: string;
  type?: string;
  url: string;
  timeout?: string;
  retries?: number;
  metadata?: Record<string, string>;
  muteAlert?: boolean;
  disableTLS?: boolean;
}

export interface FlaggerAlert {
  name: string;
  severity?: string;
  providerRef: { name: string; namespace?: string };
}

export interface FlaggerAnalysis {
  interval?: string;
  threshold?: number;
  maxWeight?: number;
  stepWeight?: number;
  stepWeights?: number[];
  stepWeightPromotion?: number;
  iterations?: number;
  match?: FlaggerMatch[];
  mirror?: boolean;
  mirrorWeight?: number;
  primaryReadyThreshold?: number;
  canaryReadyThreshold?: number;
  metrics?: FlaggerMetric[];
  webhooks?: FlaggerWebhook[];
  alerts?: FlaggerAlert[];
  sessionAffinity?: {
    cookieName: string;
    primaryCookieName?: string;
    maxAge?: number;
    domain?: string;
    httpOnly?: boolean;
    partitioned?: boolean;
    path?: string;
    sameSite?: 'Strict' | 'Lax' | 'None';
    secure?: boolean;
  };
}

export interface FlaggerCanarySpec {
  provider?: string;
  metricsServer?: string;
  progressDeadlineSeconds?: number;
  targetRef: CrossRef;
  autoscalerRef?: CrossRef & { primaryScalerReplicas?: { minReplicas?: number; maxReplicas?: number }; primaryScalerQueries?: Record<string, string> };
  ingressRef?: CrossRef;
  upstreamRef?: CrossRef & { namespace?: string };
  routeRef?: CrossRef;
  /**
   * Absent only with a provider that rolls the target out in place (Knative; Flagger's CRD does not
   * require it): compile refuses a missing one for every other provider before mappings read it.
   */
  service: FlaggerService;
  analysis: FlaggerAnalysis;
  skipAnalysis?: boolean;
  suspend?: boolean;
  [other: string]: unknown;
}

export interface FlaggerCanary {
  apiVersion: string;
  kind: 'Canary';
  metadata: ObjectMeta;
  spec: FlaggerCanarySpec;
}

export interface FlaggerMetricTemplate {
  apiVersion: string;
  kind: 'MetricTemplate';
  metadata: ObjectMeta;
  spec: {
    provider: {
      type: string;
      address?: string;
      headers?: Record<string, string[]>;
      secretRef?: { name: string };
      region?: string;
      insecureSkipVerify?: boolean;
    };
    query: string;
  };
}

export interface FlaggerAlertProvider {
  apiVersion: string;
  kind: 'AlertProvider';
  metadata: ObjectMeta;
  spec: {
    type: string;
    channel?: string;
    username?: string;
    address?: string;
    proxy?: string;
    secretRef?: { name: string };
  };
}
