import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { Problem } from '../errors';
import { AlertOptions, CanaryAnalysisOptions, MetricOptions, MetricTemplateSpec, WebhookOptions } from '../constructs/analysis-options';
import { CanaryProps } from '../constructs/canary';
import { Provider } from '../constructs/provider';
import { CanaryServiceOptions, ObjectMetadataOptions } from '../constructs/service-options';
import { AlertProviderType, AlertSeverity, MetricProviderType, WebhookType } from '../model/plan';
import { ProviderName } from '../providers/registry';
import { PROVIDERS } from '../providers/registry';
import { parseGoDuration } from './durations';
import { toMatch } from './flagger-match';
import { FlaggerAlertProvider, FlaggerCanary, FlaggerCanarySpec, FlaggerMetadata, FlaggerMetricTemplate } from './flagger-types';
import { InputObject } from './load-yaml';
import { fieldProblem } from './schema';
import type { Json } from '../constructs/workload/deployment-json';

/** The objects a Canary refers to, found among the inputs. */
export interface CanaryRefs {
  /** `spec.targetRef`, loaded into the canary's chart. */
  readonly target: IConstruct;
  /** `spec.autoscalerRef`, loaded into the canary's chart. */
  readonly autoscaler?: IConstruct;
  /** The object of the provider's reference field (`spec.ingressRef`, `spec.routeRef`), loaded into the canary's chart. */
  readonly ref?: IConstruct;
  /** The objects of the provider's Flagger references (read, not claimed), by Canary field. */
  readonly references?: ReadonlyMap<string, InputObject>;
  /** The MetricTemplate of each `analysis.metrics[i].templateRef`, by metric index. */
  readonly templates: ReadonlyMap<number, InputObject>;
  /** The AlertProvider of each `analysis.alerts[i].providerRef`, by alert index. */
  readonly alertProviders: ReadonlyMap<number, InputObject>;
  /** Whose built-in metric queries apply, when not the canary's provider's (the mesh provider's rule). */
  readonly metricsProvider?: ProviderName;
}

type Segments = (string | number)[];

/**
 * Translates a validated Flagger Canary into the props of the Canary construct, field by field;
 * the construct applies every rule. Unsupported fields were rejected before (support.ts).
 */
export function toCanaryProps(
  obj: InputObject,
  provider: ProviderName,
  refs: CanaryRefs,
  stateDir: string,
): { props?: CanaryProps; problems: Problem[] } {
  const canary = obj.json as FlaggerCanary;
  const spec = canary.spec;
  const problems: Problem[] = [];
  const duration = (text: string | undefined, segments: Segments): Duration | undefined => {
    if (text === undefined) return undefined;
    const d = parseGoDuration(text);
    if (!d) problems.push(fieldProblem(obj, segments, `must be a duration like 30s, 1m or 1m30s (got ${JSON.stringify(text)})`));
    return d;
  };
  // Absent with a provider that rolls the target out in place (resolveCanary requires it otherwise).
  const s = spec.service as FlaggerCanarySpec['service'] | undefined;
  const a = spec.analysis;

  const service: CanaryServiceOptions | undefined = s && {
    name: s.name || undefined,
    port: s.port,
    targetPort: s.targetPort,
    portName: s.portName || undefined,
    appProtocol: s.appProtocol || undefined,
    portDiscovery: s.portDiscovery,
    headless: s.headless,
    trafficDistribution: (s.trafficDistribution || undefined) as CanaryServiceOptions['trafficDistribution'],
    // service.unmanagedMetadata and spec.revertOnDeletion change nothing in git: see support.ts.
    apex: metadata(s.apex),
    primary: metadata(s.primary),
    canary: metadata(s.canary),
  };

  // The module's own options: TypeScript cannot pair name and options across the registry union.
  const module = PROVIDERS[provider];
  const router = Provider.of(provider, module.flagger.toOptions(spec, { duration, ref: refs.ref, annotations: canary.metadata.annotations ?? {}, references: referenced(refs) }) as never);

  const metrics: MetricOptions[] = (a.metrics ?? []).map((m, i) => {
    const template = refs.templates.get(i);
    return {
      name: m.name,
      interval: duration(m.interval, ['spec', 'analysis', 'metrics', i, 'interval']),
      thresholdRange: m.thresholdRange,
      threshold: m.threshold,
      query: m.query || undefined,
      template: template && toTemplateSpec(template),
      templateVariables: m.templateVariables,
    };
  });
  const webhooks: WebhookOptions[] = (a.webhooks ?? []).map((w, i) => ({
    name: w.name,
    type: (w.type || undefined) as WebhookType | undefined,
    url: w.url,
    timeout: duration(w.timeout, ['spec', 'analysis', 'webhooks', i, 'timeout']),
    retries: w.retries,
    metadata: w.metadata,
    muteAlert: w.muteAlert,
    disableTLS: w.disableTLS,
  }));
  const alerts: AlertOptions[] = (a.alerts ?? []).map((al, i) => {
    const ap = refs.alertProviders.get(i)!.json as FlaggerAlertProvider;
    return {
      name: al.name,
      severity: (al.severity ?? '') as AlertSeverity,
      provider: {
        name: ap.metadata.name,
        namespace: ap.metadata.namespace ?? 'default',
        type: ap.spec.type as AlertProviderType,
        channel: ap.spec.channel,
        username: ap.spec.username,
        address: ap.spec.address,
        proxy: ap.spec.proxy,
        secretRef: ap.spec.secretRef?.name,
      },
    };
  });

  const analysis: CanaryAnalysisOptions = {
    interval: duration(a.interval, ['spec', 'analysis', 'interval']),
    threshold: a.threshold,
    maxWeight: a.maxWeight,
    stepWeight: a.stepWeight,
    stepWeights: a.stepWeights,
    stepWeightPromotion: a.stepWeightPromotion,
    iterations: a.iterations,
    match: a.match?.map(toMatch),
    mirror: a.mirror,
    mirrorWeight: a.mirrorWeight,
    primaryReadyThreshold: a.primaryReadyThreshold,
    canaryReadyThreshold: a.canaryReadyThreshold,
    metrics,
    webhooks,
    alerts,
    sessionAffinity: a.sessionAffinity && {
      cookieName: a.sessionAffinity.cookieName,
      primaryCookieName: a.sessionAffinity.primaryCookieName || undefined,
      maxAge: a.sessionAffinity.maxAge === undefined ? undefined : Duration.seconds(a.sessionAffinity.maxAge),
      domain: a.sessionAffinity.domain,
      httpOnly: a.sessionAffinity.httpOnly,
      partitioned: a.sessionAffinity.partitioned,
      path: a.sessionAffinity.path,
      sameSite: a.sessionAffinity.sameSite,
      secure: a.sessionAffinity.secure,
    },
  };

  if (problems.length > 0) return { problems };
  return {
    problems,
    props: {
      name: canary.metadata.name,
      target: refs.target,
      service,
      provider: router,
      analysis,
      autoscaler: refs.autoscaler,
      primaryScalerReplicas: spec.autoscalerRef?.primaryScalerReplicas,
      primaryScalerQueries: spec.autoscalerRef?.primaryScalerQueries,
      skipAnalysis: spec.skipAnalysis,
      suspend: spec.suspend,
      progressDeadline: spec.progressDeadlineSeconds === undefined ? undefined : Duration.seconds(spec.progressDeadlineSeconds),
      metricsServer: spec.metricsServer || undefined,
      metricsProvider: refs.metricsProvider && refs.metricsProvider !== provider ? Provider.of(refs.metricsProvider, {} as never) : undefined,
      stateDir,
    },
  };
}

function referenced(refs: CanaryRefs): Record<string, Json> {
  return Object.fromEntries([...(refs.references ?? [])].map(([field, o]) => [field, o.json as Json]));
}

function metadata(m: FlaggerMetadata | undefined): ObjectMetadataOptions | undefined {
  return m && (m.labels || m.annotations) ? { labels: m.labels, annotations: m.annotations } : undefined;
}

/** A MetricTemplate as the construct takes it; the Secret is referenced by name only. */
function toTemplateSpec(obj: InputObject): MetricTemplateSpec {
  const mt = obj.json as FlaggerMetricTemplate;
  const p = mt.spec.provider;
  return {
    name: mt.metadata.name,
    namespace: mt.metadata.namespace ?? 'default',
    provider: {
      type: p.type as MetricProviderType,
      address: p.address,
      headers: p.headers,
      secretRef: p.secretRef?.name,
      region: p.region,
      insecureSkipVerify: p.insecureSkipVerify,
    },
    query: mt.spec.query,
  };
}
