import * as path from 'path';
import { ApiObject, App, Chart, Duration, JsonPatch } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { Problem, ValidationError } from '../errors';
import { isRolloutPhase } from '../model/phase';
import { AnalysisPlan, PLAN_API_VERSION } from '../model/plan';
import { firstState } from '../machine/transitions';
import { CanaryState, parseState } from '../model/state';
import { readStateFile, stateFilePath } from '../model/state-store';
import { canaryIdProblems, selectorValueProblem, serviceNameProblem, suffixedObjectNameProblem } from '../names';
import { CanaryAnalysisOptions } from './analysis-options';
import { planAlerts } from './alerts';
import { resolveAnalysis } from './analysis';
import { buildPrimaryAutoscaler, ScalerReplicas } from './workload/autoscaler';
import { buildPrimaryScaledObject, isScaledObject, pausedAnnotations, SCALED_OBJECT_API_VERSION } from './workload/scaled-object';
import { planMetrics, planWebhooks } from './metrics/plan-metrics';
import { routingFacts } from '../providers/module';
import { builtinObserverProvider, PROVIDERS } from '../providers/registry';
import { RoutingObject } from '../providers/router';
import { Provider } from './provider';
import { computeRevision } from './revision';
import { CanaryServiceOptions } from './service-options';
import { ConfigTrackingOptions, readTrackedConfigMaps } from './workload/config-tracking';
import { DeploymentJson, Json } from './workload/deployment-json';
import { buildPrimaryDeployment } from './workload/primary';
import { buildPrimaryDaemonSet, daemonSetStrategyProblem, scaledToZeroNodeSelector, withoutScaleToZero } from './workload/daemonset';
import { findSelectorLabel, includeLabelsByPrefix } from './workload/selector';
import { CONTROLLER_DEFAULTS, ControllerSettings } from '../model/controller-settings';
import { adoptService, buildServices, serviceNames } from './workload/services';
import { ExistingObjects } from './existing';
import { adoptReplace } from '../providers/adopt';
import { setTargetFields, stageRevisions } from './workload/in-place';
import { buildCanaryService, buildPrimaryService, isServiceTarget, ServiceTargetJson, serviceTargetPlan, serviceTargetProblems } from './workload/service-target';

/** Props of a {@link Canary}. */
export interface CanaryProps {
  /**
   * The user's Deployment, which becomes the canary workload: a cdk8s-plus `Deployment`, an L1
   * `KubeDeployment`, or an `ApiObject` loaded with `Include`; or a DaemonSet (cdk8s-plus
   * `DaemonSet`, `KubeDaemonSet`, an `ApiObject`), scaled to zero by a node selector as Flagger
   * does. With `Provider.knative()` it is a
   * Knative Service (`serving.knative.dev/v1`, an `ApiObject` or `Include`), whose revisions are
   * the canary and the primary. A core `v1` Service (`KubeService`, an `ApiObject`) is copied to
   * `<name>-primary` and `<name>-canary`, which the provider routes between, as Flagger's service
   * canary does (no workload, no apex Services). It is read at synth, so it may be configured after the Canary is
   * created.
   */
  readonly target: IConstruct;
  /** Name of the canary (state file and output folder). @default - the target's name */
  readonly name?: string;
  /**
   * The apex/primary/canary Services. Required, except with a provider that routes between
   * revisions of the target (`Provider.knative()`), which generates no Services and takes none.
   * @default - none (an error unless the provider routes inside the target)
   */
  readonly service?: CanaryServiceOptions;
  /** How traffic is shifted. */
  readonly provider: Provider;
  /** Steps, checks and webhooks. @default - none (then `skipAnalysis` must be true) */
  readonly analysis?: CanaryAnalysisOptions;
  /**
   * The user's HorizontalPodAutoscaler (autoscaling/v2) or KEDA ScaledObject (keda.sh/v1alpha1) of
   * the target; a `-primary` copy targets the primary. A ScaledObject is paused at 0 replicas
   * (annotation `autoscaling.keda.sh/paused-replicas`) while the target is scaled to zero.
   * @default - none
   */
  readonly autoscaler?: IConstruct;
  /** Overrides min/max replicas of the primary HPA or ScaledObject. @default - copied from `autoscaler` */
  readonly primaryScalerReplicas?: ScalerReplicas;
  /**
   * Queries of the primary ScaledObject's triggers, by trigger name (Flagger's
   * `autoscalerRef.primaryScalerQueries`); only with a ScaledObject.
   * @default - each trigger's `query` with the target's name replaced by `<target>-primary`
   */
  readonly primaryScalerQueries?: Record<string, string>;
  /** Promote new revisions without analysis. @default false */
  readonly skipAnalysis?: boolean;
  /** Freeze the rollout where it is. @default false */
  readonly suspend?: boolean;
  /** How long a step may wait for readiness before it fails. @default Duration.seconds(600) */
  readonly progressDeadline?: Duration;
  /**
   * The provider whose built-in metric queries (its Flagger observer) `request-success-rate` and
   * `request-duration` use; Flagger uses Linkerd's for every Canary while its -mesh-provider is linkerd.
   * @default - `provider`
   */
  readonly metricsProvider?: Provider;
  /** Prometheus for built-in metrics and readiness. @default - the CanaryApp's `controller.metricsServer` (Flagger's -metrics-server, 'http://prometheus:9090') */
  readonly metricsServer?: string;
  /**
   * Which referenced ConfigMaps the primary gets copies of.
   * @default - tracking enabled for every ConfigMap the target references
   */
  readonly configTracking?: ConfigTrackingOptions;
  /** The stage to render; overrides the state file (tests, previews). @default - read from `stateDir` */
  readonly state?: CanaryState;
  /** Folder of state files, relative to the app's `stateRoot`. @default - the CanaryApp's `stateDir` ('state') */
  readonly stateDir?: string;
  /**
   * Objects the user already has. One with the group, kind, namespace and name of a Service or
   * routing object the Canary generates is taken over the way Flagger takes it over (a Service
   * keeps its type, nodePorts, labels and annotations and gets the Canary's selector and ports; a
   * routing object gets the generated spec, and keeps metadata where the provider's Flagger router
   * does); the Canary writes the result in place of the generated object. Leave the objects it
   * takes over out of the app, or it holds two of them.
   * @default - none: every object is generated afresh
   */
  readonly existing?: ExistingObjects;
}

/** Symbol marking Canary constructs so the app can find them without instanceof across copies. */
const CANARY_MARK = Symbol.for('canarykit.Canary');

/**
 * A Flagger-style canary as a cdk8s construct. For the stage recorded in
 * `state/<namespace>/<name>.json` (or the bootstrap stage) it emits the objects Flagger would have
 * put in the cluster: the target scaled per stage, `<target>-primary`, the apex/primary/canary
 * Services, the provider's routing objects, a primary HPA and `-primary` ConfigMap copies; and the
 * analysis plan the step driver reads.
 */
export class Canary extends Construct {
  /** Whether `x` is a Canary. */
  static isCanary(x: unknown): x is Canary {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[CANARY_MARK] === true;
  }

  /** Canary name (state file and output folder). */
  readonly name: string;
  /** Namespace of every generated object. */
  readonly namespace: string;
  private readonly problems: Problem[] = [];
  private readonly warnings: Problem[] = [];
  private rendered = false;
  private renderedPlan?: AnalysisPlan;
  private renderedState?: CanaryState;

  constructor(scope: Construct, id: string, private readonly props: CanaryProps) {
    super(scope, id);
    (this as unknown as Record<symbol, boolean>)[CANARY_MARK] = true;
    this.node.addValidation({ validate: () => this.validateProblems().map((p) => `${p.path}: ${p.message}`) });
    // Name and namespace place the output folder and the state file; the rest is read at synth.
    const target = ApiObject.of(props.target).toJson() as DeploymentJson;
    this.name = props.name ?? target.metadata?.name ?? id;
    this.namespace = target.metadata?.namespace ?? Chart.of(this).namespace ?? 'default';
  }

  /** The analysis plan written next to the manifests; undefined when the props are invalid. */
  get plan(): AnalysisPlan | undefined {
    this.render();
    return this.renderedPlan;
  }

  /** The stage rendered. */
  get state(): CanaryState | undefined {
    this.render();
    return this.renderedState;
  }

  /** Every problem with the props, the state file and the target; paths are relative to this Canary. */
  validateProblems(): Problem[] {
    this.render();
    return [...this.problems];
  }

  /**
   * Values Flagger corrects at run time and canarykit corrected the same way (an interval under
   * 10s, stepWeights past 100, ...): not problems, but worth telling. Paths as in validateProblems.
   */
  validateWarnings(): Problem[] {
    this.render();
    return [...this.warnings];
  }

  /**
   * Reads the target, its ConfigMaps and the state file and emits the stage's objects, once, at
   * synth (cdk8s validation or CanaryApp.render): the target and the ConfigMaps it uses may be
   * configured after the Canary is created, as with any cdk8s construct.
   */
  private render(): void {
    if (this.rendered) return;
    this.rendered = true;
    const props = this.props;
    const targetObject = ApiObject.of(props.target);
    const target = targetObject.toJson() as DeploymentJson;
    // A provider that routes between revisions of the target (Knative) takes its own kind of target.
    const inPlace = props.provider.router.revisions;
    if (inPlace) {
      if (target.kind !== inPlace.kind || target.apiVersion !== inPlace.apiVersion) {
        this.problem('target', `must be a ${inPlace.apiVersion} ${inPlace.kind} with provider ${props.provider.name} (got ${target.apiVersion} ${target.kind})`);
        return;
      }
      if (typeof target.spec?.template !== 'object' || target.spec.template === null) {
        this.problem('target', `spec.template must be set: its revisions are the canary and the primary`);
        return;
      }
    } else if (!isServiceTarget(target) && ((target.kind !== 'Deployment' && target.kind !== 'DaemonSet') || !String(target.apiVersion).startsWith('apps/'))) {
      this.problem('target', `must be an apps/v1 Deployment or DaemonSet, or a v1 Service (got ${target.apiVersion} ${target.kind})`);
      return;
    }
    // src: pkg/canary/factory.go Controller: a core Service target gets the ServiceController (no workload).
    const serviceTarget = !inPlace && isServiceTarget(target);
    // src: pkg/canary/factory.go Controller: a DaemonSet target gets the DaemonSet controller.
    const daemonSet = !inPlace && target.kind === 'DaemonSet';
    if (daemonSet) {
      const p = daemonSetStrategyProblem(target.spec.updateStrategy as Json | undefined);
      if (p) this.problem('target', p);
    }
    const targetName = target.metadata.name;
    // Names first: an invalid name must never reach a file path (state file, output folder).
    const idProblems = canaryIdProblems(this.namespace, this.name, { namespace: 'namespace', name: 'name' });
    this.problems.push(...idProblems);
    const targetProblem = suffixedObjectNameProblem(targetName);
    if (targetProblem) this.problem('target', `metadata.name ${targetProblem}`);
    const app = App.of(this) as { stateRoot?: string; stateDir?: string; controller?: ControllerSettings };
    // A Canary in a plain cdk8s App renders with Flagger's defaults.
    const controller = app.controller ?? CONTROLLER_DEFAULTS;
    const selector = inPlace || serviceTarget ? undefined : findSelectorLabel(target.spec.selector?.matchLabels, controller.selectorLabels);
    if (inPlace || serviceTarget) {
      // Knative labels and selects the revisions' pods itself; a Service target's copies keep its selector.
    } else if (!selector) {
      this.problem('target', `spec.selector.matchLabels must contain one of [${controller.selectorLabels.join(', ')}] (Flagger's selector labels, -selector-labels); e.g. select pods with the label ${controller.selectorLabels[0]}=${targetName}`);
    } else {
      const valueProblem = selectorValueProblem(selector.value);
      if (valueProblem) this.problem('target', `spec.selector.matchLabels.${selector.key} ${valueProblem}`);
    }

    const provider = props.provider;
    const { resolved, problems: analysisProblems, warnings: analysisWarnings } = resolveAnalysis(props.analysis, provider.name, props.skipAnalysis ?? false);
    this.problems.push(...analysisProblems);
    this.warnings.push(...analysisWarnings);
    if (inPlace) this.validateInPlace(props);
    else this.validateService(props.service, targetName);
    if (serviceTarget) {
      this.validateServiceTarget(props, targetName);
      for (const p of serviceTargetProblems(target as unknown as ServiceTargetJson)) this.problem('target', p);
    }

    // In place, the primary is an older revision: there are no `-primary` ConfigMap copies to make
    // (Flagger's KnativeController tracks no dependencies). -enable-config-tracking is the default of configTracking.enabled.
    // controller.untrackedConfigMaps: ConfigMaps the cluster creates, excluded from every Canary's tracking.
    const exclude = [...(props.configTracking?.exclude ?? []), ...controller.untrackedConfigMaps];
    const tracking = { ...props.configTracking, enabled: props.configTracking?.enabled ?? controller.enableConfigTracking, ...(exclude.length ? { exclude } : {}) };
    const tracked = inPlace || serviceTarget ? { problems: [], data: {}, labels: {} } : readTrackedConfigMaps(Chart.of(this), this.namespace, target.spec.template.spec ?? {}, tracking, Canary.isCanary, controller.includeLabelPrefix);
    this.problems.push(...tracked.problems);
    const configMaps = tracked.data;
    for (const cm of Object.keys(configMaps)) {
      const p = suffixedObjectNameProblem(cm);
      if (p) this.problem('configTracking', `ConfigMap ${cm} ${p}`);
    }
    const metricsServer = props.metricsServer ?? controller.metricsServer;
    const names = serviceNames(props.service?.name ?? targetName);
    const hpa = props.autoscaler ? ApiObject.of(props.autoscaler).toJson() : undefined;
    const scaledObject = isScaledObject(hpa);
    if (hpa && hpa.kind !== 'HorizontalPodAutoscaler' && !scaledObject) this.problem('autoscaler', `must be a HorizontalPodAutoscaler or a ${SCALED_OBJECT_API_VERSION} ScaledObject (got ${hpa.apiVersion} ${hpa.kind})`);
    if (props.primaryScalerQueries && !scaledObject) this.problem('primaryScalerQueries', `is only used with a KEDA ScaledObject autoscaler (Flagger: autoscalerRef.primaryScalerQueries); remove it`);
    // Flagger would make the -primary autoscaler, but a DaemonSet has no scale subresource: it could never act.
    if (hpa && daemonSet) this.problem('autoscaler', `cannot be used with a DaemonSet target: a DaemonSet runs one pod per node and has no replicas to scale; remove it`);
    if (props.primaryScalerReplicas && daemonSet) this.problem('primaryScalerReplicas', `cannot be used with a DaemonSet target, which has no replicas; remove it`);

    // HasTargetChanged ignores the scale-to-zero node selector (a DaemonSet copied from a cluster may carry it).
    const canaryTemplate = daemonSet ? withoutScaleToZero(target.spec.template as Json) : target.spec.template as Json;
    const canaryPlan = serviceTarget ? serviceTargetPlan(target as unknown as ServiceTargetJson, controller.includeLabelPrefix) : {
      revision: computeRevision(canaryTemplate, configMaps),
      template: canaryTemplate,
      // A DaemonSet's updateStrategy is kept as the workload's strategy (it has no replicas or deadline).
      workload: daemonSet ? {
        minReadySeconds: target.spec.minReadySeconds,
        revisionHistoryLimit: target.spec.revisionHistoryLimit,
        strategy: target.spec.updateStrategy as Json | undefined,
      } : {
        replicas: target.spec.replicas,
        minReadySeconds: target.spec.minReadySeconds,
        progressDeadlineSeconds: target.spec.progressDeadlineSeconds,
        revisionHistoryLimit: target.spec.revisionHistoryLimit,
        strategy: target.spec.strategy,
      },
      annotations: { ...target.metadata.annotations },
      // Only with -include-label-prefix, so plans and state files without it stay as they were.
      ...labelsField(includeLabelsByPrefix(target.metadata.labels, controller.includeLabelPrefix)),
      configMaps,
      ...(Object.keys(tracked.labels).length > 0 ? { configMapLabels: tracked.labels } : {}),
    };

    const stateDir = props.stateDir ?? app.stateDir ?? 'state';
    const stateFile = idProblems.length ? '' : stateFilePath(stateDir, this.namespace, this.name);
    const stateRoot = app.stateRoot ?? '.';
    const state = idProblems.length ? undefined : this.loadState(props.state, path.resolve(stateRoot, stateFile), canaryPlan);
    const revisions = inPlace && state ? stageRevisions(inPlace, targetName, canaryPlan, state) : undefined;
    if (inPlace && revisions) this.problems.push(...inPlace.validateRevisions(targetName, revisions));
    const routeProbe = {
      namespace: this.namespace,
      names,
      selector,
      port: props.service?.port ?? 0,
      portName: props.service?.portName,
      appProtocol: props.service?.appProtocol,
      targetPort: props.service?.targetPort,
      portDiscovery: props.service?.portDiscovery ?? false,
      target: { name: targetName },
      apex: props.service?.apex,
      analysis: {
        strategy: resolved.strategy,
        match: resolved.match,
        mirror: resolved.settings.mirror,
        mirrorWeight: resolved.settings.mirrorWeight,
        iterations: resolved.settings.iterations,
        intervalSeconds: resolved.settings.intervalSeconds,
        sessionAffinity: resolved.settings.sessionAffinity,
      },
      weights: { primary: 100 - (state?.canaryWeight ?? 0), canary: state?.canaryWeight ?? 0, mirror: state?.mirror ?? false },
      cookies: state?.sessionAffinity,
      phase: state?.phase,
      controller: { ingressAnnotationsPrefix: controller.ingressAnnotationsPrefix, ingressClass: controller.ingressClass },
    };
    this.problems.push(...provider.router.validate(routeProbe));

    const templateVars = {
      name: this.name,
      namespace: this.namespace,
      target: targetName,
      service: names.apex,
      ingress: provider.router.ingressName ?? targetName,
      // scheduler_metrics.go: {{ route }} is spec.routeRef's name (APISIX), or for a Knative target the latest created revision.
      route: provider.router.routeName ?? revisions?.canary ?? targetName,
    };
    const metrics = planMetrics(props.analysis?.metrics ?? [], { provider: builtinObserverProvider((props.metricsProvider ?? provider).name, serviceTarget), metricsServer, vars: templateVars });
    const webhooks = planWebhooks(props.analysis?.webhooks ?? []);
    const alerts = planAlerts(props.analysis?.alerts ?? [], this.namespace);
    this.problems.push(...metrics.problems, ...webhooks.problems, ...alerts.problems);
    if (controller.noCrossNamespaceRefs) this.problems.push(...crossNamespaceProblems(props, this.namespace));
    const progressDeadlineSeconds = props.progressDeadline?.toSeconds({ integral: false }) ?? 600;
    if (!Number.isInteger(progressDeadlineSeconds) || progressDeadlineSeconds < 1 || progressDeadlineSeconds > MAX_PROGRESS_DEADLINE_SECONDS) {
      this.problem('progressDeadline', `must be a whole number of seconds from 1 to ${MAX_PROGRESS_DEADLINE_SECONDS} (7 days) (got ${progressDeadlineSeconds})`);
    }

    if (this.problems.length > 0 || !(selector || inPlace || serviceTarget) || !state) return;

    this.renderedState = state;
    // The target keeps serving until the new primary is ready (Initializing) and runs while a
    // rollout needs it; otherwise (also after a failed promotion) it is scaled to zero. In place,
    // the target's controller scales each revision and canarykit sets no replicas.
    const canaryUp = state.phase === 'Initializing' || isRolloutPhase(state.phase);
    const canaryReplicas = canaryUp ? scaleUpReplicas(target, state, hpa) : 0;
    const primaryInput = { targetName, namespace: this.namespace, selector: selector!, selectorLabels: controller.selectorLabels, snapshot: state.primary, hasAutoscaler: !!hpa };
    const primary = inPlace ? undefined : serviceTarget ? buildPrimaryService(state.primary, targetName, this.namespace, controller.includeLabelPrefix) : daemonSet ? buildPrimaryDaemonSet(primaryInput) : buildPrimaryDeployment(primaryInput) as Json;
    this.renderedPlan = {
      apiVersion: PLAN_API_VERSION,
      kind: 'AnalysisPlan',
      namespace: this.namespace,
      name: this.name,
      targetName,
      serviceName: names.apex,
      ingressName: provider.router.ingressName,
      provider: provider.name,
      routing: routingFacts(PROVIDERS[provider.name].capabilities),
      strategy: resolved.strategy,
      skipAnalysis: props.skipAnalysis ?? false,
      suspend: props.suspend ?? false,
      progressDeadlineSeconds,
      metricsServer,
      analysis: resolved.settings,
      metrics: metrics.metrics,
      webhooks: webhooks.webhooks,
      route: provider.router.routeStatus?.(routeProbe),
      alerts: alerts.alerts.length ? alerts.alerts : undefined,
      canary: canaryPlan,
      replicas: inPlace || daemonSet || serviceTarget ? {} : { canary: canaryReplicas, ...(typeof primary?.spec?.replicas === 'number' ? { primary: primary.spec.replicas } : {}) },
      stateFile: stateFile.split('\\').join('/'),
      // The driver observes DaemonSets by their kube-state-metrics series; they have no replicas to commit.
      ...(daemonSet ? { targetKind: 'DaemonSet', workloadKind: 'DaemonSet' as const, workloads: { primary: `${targetName}-primary`, canary: targetName } } : {}),
      // ServiceController IsPrimaryReady/IsCanaryReady: always ready, so the driver observes no workload.
      ...(serviceTarget ? { targetKind: 'Service', workloadKind: 'Service' as const } : {}),
      ...(inPlace && revisions ? { targetKind: inPlace.kind, revisions: { primary: revisions.primary, canary: revisions.canary }, workloads: inPlace.workloads(revisions) } : {}),
    };
    const existing = props.existing;
    const group = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');
    const found = (json: Json): Json | undefined => existing?.find(group(json.apiVersion), json.kind, json.metadata.namespace, json.metadata.name);
    const service = (json: Json): Json => {
      const user = found(json);
      return user ? adoptService(json, user, this.name) : json;
    };
    const routing = (json: Json): Json => {
      const user = found(json);
      if (!user) return json;
      const obj = json as RoutingObject;
      return provider.router.adopt ? provider.router.adopt(obj, user, routeProbe) : adoptReplace(obj, user);
    };
    const emit = (json: Json): void => {
      const obj = new ApiObject(this, `${json.kind}-${json.metadata.name}`, json as any);
      // A cluster-scoped routing object (no namespace) must not take the chart's namespace.
      if (json.metadata.namespace === undefined && obj.metadata.namespace !== undefined) obj.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    };
    if (serviceTarget) {
      // KubernetesNoopRouter: no apex Service; the target passes through as the user wrote it.
      // A Service of either name in the input is taken over and replaced: reconcileCanaryService
      // overwrites -canary on every Initialize, Promote overwrites -primary.
      const takeOver = (json: Json): Json => (found(json), json);
      emit(takeOver(primary!));
      emit(takeOver(buildCanaryService(target as unknown as ServiceTargetJson, this.namespace, props.service?.trafficDistribution)));
      provider.router.render(routeProbe).map(routing).forEach(emit);
      return;
    }
    if (inPlace) {
      setTargetFields(targetObject, inPlace.targetFields(target, revisions!, routeProbe));
      provider.router.render(routeProbe).map(routing).forEach(emit);
      return;
    }
    if (!daemonSet) targetObject.addJsonPatch(JsonPatch.add('/spec/replicas', canaryReplicas));
    // src: daemonset_controller.go ScaleToZero/ScaleFromZero: the node selector no node matches, or none.
    else if (!canaryUp) targetObject.addJsonPatch(JsonPatch.add('/spec/template/spec/nodeSelector', scaledToZeroNodeSelector(target.spec.template.spec ?? {})));
    else if (canaryTemplate !== target.spec.template) {
      const sel = canaryTemplate.spec?.nodeSelector;
      targetObject.addJsonPatch(sel ? JsonPatch.add('/spec/template/spec/nodeSelector', sel) : JsonPatch.remove('/spec/template/spec/nodeSelector'));
    }

    emit(primary!);
    for (const [cmName, data] of Object.entries(state.primary.configMaps)) {
      const labels = state.primary.configMapLabels?.[cmName];
      emit({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${cmName}-primary`, namespace: this.namespace, ...(labels ? { labels } : {}) }, data });
    }
    buildServices(names, this.namespace, selector!, props.service!, target.spec.template.spec ?? {}).map(service).forEach(emit);
    if (hpa && scaledObject) {
      emit(buildPrimaryScaledObject(hpa, targetName, this.namespace, props.primaryScalerQueries, props.primaryScalerReplicas));
      // PauseTargetScaler/ResumeTargetScaler: KEDA must not scale the target up while it is scaled to zero.
      const annotations = pausedAnnotations(hpa, canaryReplicas === 0);
      const so = ApiObject.of(props.autoscaler!);
      if (annotations) so.addJsonPatch(JsonPatch.add('/metadata/annotations', annotations));
      else if (hpa.metadata?.annotations) so.addJsonPatch(JsonPatch.remove('/metadata/annotations'));
    } else if (hpa) emit(buildPrimaryAutoscaler(hpa, `${targetName}-primary`, this.namespace, props.primaryScalerReplicas));
    provider.router.render(routeProbe).map(routing).forEach(emit);
  }

  private problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /**
   * A target rolled out in place has no copies: the Services, ConfigMap copies and primary HPA the
   * other props make do not exist (Flagger's verifyKnativeCanary refuses an autoscaler).
   */
  private validateInPlace(props: CanaryProps): void {
    const what = `provider ${props.provider.name} routes between revisions of the target`;
    if (props.service) this.problem('service', `is not used: ${what} and generates no Services (Flagger ignores spec.service there); remove it`);
    if (props.autoscaler) this.problem('autoscaler', `cannot be used: ${what}, which scales its revisions itself (Flagger: "can't use autoscaler with Knative Service"); remove it`);
    if (props.primaryScalerReplicas) this.problem('primaryScalerReplicas', `is not used: ${what} and makes no primary autoscaler; remove it`);
    if (props.configTracking) this.problem('configTracking', `is not used: ${what} and makes no -primary ConfigMap copies (Flagger tracks none there); remove it`);
  }

  /**
   * A Service target has no pods of its own: the copies are `<target>-primary`/`-canary`, which the
   * routers reach by the apex name, so service.name must be the target's; nothing scales.
   */
  private validateServiceTarget(props: CanaryProps, targetName: string): void {
    const what = 'the target is a Service (Flagger copies it to -primary/-canary and makes no workload)';
    if (props.service?.name !== undefined && props.service.name !== targetName) this.problem('service.name', `must be the target's name ${JSON.stringify(targetName)} or unset: ${what}, and the routes reach those copies by the apex name`);
    if (props.autoscaler) this.problem('autoscaler', `cannot be used: ${what}, so there are no replicas to scale; remove it`);
    if (props.primaryScalerReplicas) this.problem('primaryScalerReplicas', `is not used: ${what} and makes no primary autoscaler; remove it`);
    if (props.configTracking) this.problem('configTracking', `is not used: ${what} and tracks no ConfigMaps; remove it`);
    // Read only by KubernetesDefaultRouter, which a Service target does not get (KubernetesNoopRouter): Flagger ignores them.
    for (const key of ['apex', 'primary', 'canary', 'headless', 'portDiscovery'] as const) {
      if (props.service?.[key] !== undefined) this.warnings.push({ path: `service.${key}`, message: `is ignored: ${what}; the copies take the target's metadata and spec, as Flagger's KubernetesNoopRouter leaves them` });
    }
  }

  private validateService(s: CanaryServiceOptions | undefined, targetName: string): void {
    if (!s || !Number.isInteger(s.port) || s.port < 1 || s.port > 65535) {
      this.problem('service.port', `must be a port number from 1 to 65535 (got ${s?.port})`);
    }
    if (s?.name !== undefined) {
      const p = serviceNameProblem(s.name);
      if (p) this.problem('service.name', p);
    } else if (typeof targetName === 'string' && !suffixedObjectNameProblem(targetName)) {
      // The apex Service takes the target's name unless service.name is set (Flagger).
      const p = serviceNameProblem(targetName);
      if (p) this.problem('service.name', `the target's name ${JSON.stringify(targetName)} is the apex Service name by default and ${p}; set service.name`);
    }
    if (typeof s?.targetPort === 'number' && (!Number.isInteger(s.targetPort) || s.targetPort < 1 || s.targetPort > 65535)) {
      this.problem('service.targetPort', `must be a port number from 1 to 65535 or a port name (got ${s.targetPort})`);
    }
  }

  private loadState(explicit: CanaryState | undefined, file: string, canary: AnalysisPlan['canary']): CanaryState | undefined {
    let state: CanaryState | undefined;
    try {
      // The `state` prop gets the same schema check as a state file (problem paths `state#/...`).
      state = explicit ? parseState(explicit, 'state') : readStateFile(file);
    } catch (e) {
      if (e instanceof ValidationError) this.problems.push(...e.problems);
      else throw e;
      return undefined;
    }
    if (!state) return bootstrapState(this.namespace, this.name, canary);
    if (state.namespace !== this.namespace || state.name !== this.name) {
      this.problem('state', `${explicit ? 'the state prop' : file} is for ${state.namespace}/${state.name}, not ${this.namespace}/${this.name}`);
      return undefined;
    }
    return state;
  }
}

const MAX_PROGRESS_DEADLINE_SECONDS = 7 * 86_400;

/** src: pkg/controller/controller.go verifyNoCrossNamespaceRefs, for what a construct can refer to. */
function crossNamespaceProblems(props: CanaryProps, namespace: string): Problem[] {
  const out: Problem[] = [];
  const blocked = 'is in another namespace than the canary, and cross-namespace references are blocked (-no-cross-namespace-refs)';
  (props.analysis?.metrics ?? []).forEach((m, i) => {
    const ns = m.template?.namespace;
    if (ns !== undefined && ns !== namespace) out.push({ path: `analysis.metrics[${i}].template.namespace`, message: `MetricTemplate ${ns}/${m.template!.name} ${blocked}` });
  });
  (props.analysis?.alerts ?? []).forEach((a, i) => {
    const ns = a.provider.namespace;
    if (ns !== undefined && ns !== namespace) out.push({ path: `analysis.alerts[${i}].provider.namespace`, message: `AlertProvider ${ns}/${a.provider.name} ${blocked}` });
  });
  return out;
}

function labelsField(labels: Record<string, string>): { labels?: Record<string, string> } {
  return Object.keys(labels).length > 0 ? { labels } : {};
}

/** The stage before the first commit (the state machine's first state, rendered without a clock). */
export function bootstrapState(namespace: string, name: string, canary: AnalysisPlan['canary']): CanaryState {
  return firstState(namespace, name, canary, new Date(0));
}

/** Flagger's scale-from-zero rule: target replicas, else primary replicas, else HPA minReplicas > 1, else 1. */
function scaleUpReplicas(target: DeploymentJson, state: CanaryState, hpa: Json | undefined): number {
  if ((target.spec.replicas ?? 0) > 0) return target.spec.replicas!;
  if (!hpa && (state.primary.workload.replicas ?? 0) > 0) return state.primary.workload.replicas!;
  // A KEDA ScaledObject's minimum is minReplicaCount (deployment_controller.go ScaleFromZero).
  const min = (hpa?.kind === 'ScaledObject' ? hpa?.spec?.minReplicaCount : hpa?.spec?.minReplicas) ?? 1;
  return min > 1 ? min : 1;
}
