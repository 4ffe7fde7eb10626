import { ApiObject, Chart } from 'cdk8s';
import { Problem } from '../errors';
import { Canary } from '../constructs/canary';
import { CanaryApp } from '../constructs/canary-app';
import { RenderPass } from '../constructs/render-pass';
import { findConfigMapRefs } from '../constructs/workload/config-tracking';
import { Json } from '../constructs/workload/deployment-json';
import { ProviderModule } from '../providers/module';
import { builtinMetricsProvider, PROVIDERS, providerModules } from '../providers/registry';
import { ProviderName } from '../providers/registry';
import { FlaggerCanary, FlaggerMetricTemplate } from './flagger-types';
import { InputIndex, Inputs, apiGroup, namespaceOf, objectKey } from './inputs';
import type { KeptFolder, KeyFinder, Lookup } from './record';
import { InputObject, documentName } from './load-yaml';
import { dottedPath, fieldProblem, resourceName } from './schema';
import { removedApiProblem } from './removed-apis';
import { providerFor, providerNamed, targetProblem, unsupportedFields } from './support';
import { CanaryRefs, toCanaryProps } from './to-props';
import { ControllerSettingsInput } from '../model/controller-settings';
import { ExistingObjects } from '../constructs/existing';
import { setOrigin } from '../constructs/render-pass';
import { ownedByCanary } from '../constructs/workload/services';
import { MetricProviderPlan, MetricProviderType } from '../model/plan';
import { metricProviderSpec } from '../model/metric-providers';

/** Folder of the objects no Canary refers to (namespaces cannot contain `_`, so it never clashes). */
export const PASSTHROUGH_FOLDER = '_unreferenced';

/**
 * An object loaded from YAML. Keys are sorted at every level (cdk8s sorts, but appends fields
 * added by JSON patches, such as the target's `spec.replicas`), so the output matches an app
 * that declares the same object with the typed `Kube*` classes.
 */
export class LoadedObject extends ApiObject {
  override toJson(): any {
    const json = super.toJson();
    const out: Json = {};
    for (const k of ['apiVersion', 'kind', 'metadata', ...Object.keys(json).sort()]) if (k in json && !(k in out)) out[k] = sortKeys(json[k]);
    return out;
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Json)[k])]));
  }
  return value;
}

/** The app built from the inputs, and what is needed to explain its problems in YAML terms. */
export interface BuiltApp {
  readonly app: CanaryApp;
  /**
   * The render of `app` under way: the canaries' charts are validated, rendered and released
   * RENDER_BATCH at a time while the app is built; `pass.take(true)` then `pass.finish()` complete it.
   */
  readonly pass: RenderPass;
  readonly problems: Problem[];
  readonly warnings: string[];
  /** Chart id -> the Canary document it came from. */
  readonly charts: ReadonlyMap<string, InputObject>;
  /** `<namespace>/<name>` folders `keep` kept as they are on disk (not built, not rendered). */
  readonly kept: string[];
}

/** The objects a Canary claims, resolved from its spec. */
interface Resolved {
  provider: ProviderName;
  target: InputObject;
  autoscaler?: InputObject;
  ref?: InputObject;
  references: Map<string, InputObject>;
  metricsProvider?: ProviderName;
  configMaps: InputObject[];
  templates: Map<number, InputObject>;
  alertProviders: Map<number, InputObject>;
}

/**
 * One chart per Canary (namespace = the Canary's) holding the objects it refers to and a Canary
 * construct; one `_unreferenced` chart with everything else, unchanged. Problems are collected
 * for every Canary before anything is rendered.
 */
/**
 * Canaries built before their charts are rendered and released: memory then holds one batch of
 * constructs, not 5,000 canaries' (~250 MB live at 5,000, most of compile's peak; issue 14).
 */
const RENDER_BATCH = 100;

/**
 * `keep` (compile/record.ts CompileRecorder): asked for every canary resolved without a clash, with
 * every input lookup its resolution made; true keeps its folder on disk instead of building it.
 */
export function buildApp(inputs: Inputs, stateDir: string, stateRoot = '.', opts: { scoped?: boolean; controller?: ControllerSettingsInput; renderBatch?: number; keep?: (canary: InputObject, lookups: Lookup[], adoptLookups: Lookup[], index: KeyFinder) => KeptFolder | false } = {}): BuiltApp {
  const batch = opts.renderBatch ?? RENDER_BATCH;
  const app = new CanaryApp({ stateRoot, controller: withoutMesh(opts.controller) });
  const pass = new RenderPass(app);
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const charts = new Map<string, InputObject>();
  const index = new InputIndex([...inputs.objects, ...inputs.metricTemplates, ...inputs.alertProviders]);
  const claimedBy = new Map<InputObject, InputObject>();
  const passthroughCandidates = new Set(inputs.objects);
  const adoptedBy = new Map<InputObject, InputObject>();
  const usedFlagger = new Set<InputObject>();
  const kept: string[] = [];

  const canaries = [...inputs.canaries].sort((a, b) => compareText(`${namespaceOf(a)}/${a.json.metadata.name}`, `${namespaceOf(b)}/${b.json.metadata.name}`));
  canaries.forEach((obj, n) => {
    // The compile record needs every key looked up, found or not (a miss found later changes the output).
    const lookups: Lookup[] = [];
    const find: Finder = opts.keep
      ? { find: (g, k, ns, name) => { const o = index.find(g, k, ns, name); lookups.push([objectKey(g, k, ns, name), o]); return o; } }
      : index;
    const resolved = resolveCanary(obj, find, problems, opts.controller, warnings);
    if (!resolved) return;
    const claims = [resolved.target, ...resolved.configMaps, resolved.autoscaler, resolved.ref].filter((o): o is InputObject => !!o);
    let clash = false;
    for (const o of claims) {
      const other = claimedBy.get(o);
      if (other && other !== obj) {
        clash = true;
        problems.push({
          path: `${documentName(o.origin)} ${resourceName(o)}`,
          message: `is used by both ${resourceName(other)} (${documentName(other.origin)}) and ${resourceName(obj)} (${documentName(obj.origin)}); each object can belong to one canary only`,
        });
      }
      claimedBy.set(o, obj);
    }
    resolved.templates.forEach((t) => usedFlagger.add(t));
    resolved.alertProviders.forEach((a) => usedFlagger.add(a));
    if (clash) return;
    const adoptLookups: Lookup[] = [];
    const keptFolder = opts.keep?.(obj, lookups, adoptLookups, index);
    if (keptFolder) {
      const dir = `${namespaceOf(obj)}/${obj.json.metadata.name}`;
      kept.push(dir);
      // What the folder took over stays taken; its objects still count for one writer per object.
      for (const o of keptFolder.adopted) {
        claimedBy.set(o, obj);
        adoptedBy.set(o, obj);
      }
      pass.reserve(dir, keptFolder.outputs);
      return;
    }

    const chartId = `canary${n}-${namespaceOf(obj)}-${obj.json.metadata.name}`;
    const chart = new Chart(app, chartId, { namespace: namespaceOf(obj) });
    charts.set(chartId, obj);
    const load = (o: InputObject): LoadedObject => new LoadedObject(chart, `${o.json.kind}-${o.json.metadata.name}`, o.json as any);
    const target = load(resolved.target);
    resolved.configMaps.forEach(load);
    const autoscaler = resolved.autoscaler && load(resolved.autoscaler);
    const ref = resolved.ref && load(resolved.ref);
    const refs: CanaryRefs = { target, autoscaler, ref, references: resolved.references, templates: resolved.templates, alertProviders: resolved.alertProviders, metricsProvider: resolved.metricsProvider };
    const { props, problems: propProblems } = toCanaryProps(obj, resolved.provider, refs, stateDir);
    problems.push(...propProblems);
    if (props) {
      // Input objects with the identity of a Service or routing object the Canary generates are
      // taken over (issue 11): claimed by this canary, merged into its folder, not passed through.
      const existing: ExistingObjects = {
        find: (group, kind, namespace, name) => {
          const found = index.find(group, kind, namespace ?? 'default', name);
          // Recorded hit or miss: an object appearing under a generated name later changes this folder.
          if (opts.keep) adoptLookups.push([objectKey(group, kind, namespace ?? 'default', name), found]);
          if (!found || !passthroughCandidates.has(found)) return undefined;
          // Not an object loaded into a chart (a target, ConfigMap, autoscaler or ref) nor one another canary took over.
          if (claimedBy.has(found) && adoptedBy.get(found) !== obj) return undefined;
          claimedBy.set(found, obj);
          adoptedBy.set(found, obj);
          const ignored = ignoredServiceMetadata(obj, found);
          if (ignored) warnings.push(ignored);
          return found.json;
        },
      };
      const canary = new Canary(chart, 'canary', { ...props, existing });
      // Rendered now, so what it takes over is known before the unreferenced objects are.
      void canary.plan;
    }
    // With a problem nothing is rendered; its charts stay for the problem's explanation.
    if ((n + 1) % batch === 0 && problems.length === 0) pass.take(true);
  });

  // A scoped build (compile's `only`) renders some canaries' folders and leaves the rest as written.
  if (opts.scoped) return { app, pass, problems, warnings, charts, kept };
  const rest = inputs.objects.filter((o) => !claimedBy.has(o));
  if (rest.length > 0) {
    const chart = new Chart(app, PASSTHROUGH_FOLDER);
    rest.forEach((o, i) => {
      const loaded = new LoadedObject(chart, `${i}-${o.json.kind}-${o.json.metadata.name}`, o.json as any);
      setOrigin(loaded, `${documentName(o.origin)} ${resourceName(o)}`);
    });
  }
  for (const o of [...inputs.metricTemplates, ...inputs.alertProviders]) {
    if (!usedFlagger.has(o)) warnings.push(`${documentName(o.origin)} ${resourceName(o)} is not used by any Canary and is not written (Flagger resources need no manifest without Flagger)`);
  }
  return { app, pass, problems, warnings, charts, kept };
}

/**
 * kubernetes_default.go reconcileService updates only the selector and ports of a Service it did
 * not create: spec.service.apex/primary/canary metadata never reaches a Service the user already has.
 */
function ignoredServiceMetadata(canary: InputObject, svc: InputObject): string | undefined {
  if (svc.json.kind !== 'Service' || apiGroup(svc.json.apiVersion) !== '' || ownedByCanary(svc.json, canary.json.metadata.name)) return undefined;
  const spec = (canary.json as FlaggerCanary).spec;
  const apex = spec.service.name || spec.targetRef.name;
  const role = ({ [apex]: 'apex', [`${apex}-primary`]: 'primary', [`${apex}-canary`]: 'canary' } as Record<string, 'apex' | 'primary' | 'canary'>)[svc.json.metadata.name];
  const meta = role ? (spec.service as Record<string, { labels?: object; annotations?: object } | undefined>)[role] : undefined;
  if (!meta || (Object.keys(meta.labels ?? {}).length === 0 && Object.keys(meta.annotations ?? {}).length === 0)) return undefined;
  return `${documentName(svc.origin)} ${resourceName(svc)} is taken over by ${resourceName(canary)}, which sets only its selector and ports, as Flagger does with a Service it did not create: spec.service.${role} labels and annotations are not applied to it; write them in the Service`;
}

/** The mesh provider is the compiler's business (resolveCanary); the app gets the rest. */
function withoutMesh(settings: ControllerSettingsInput | undefined): ControllerSettingsInput | undefined {
  if (!settings) return undefined;
  const { meshProvider: _mesh, ...rest } = settings;
  return rest;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The index as resolveCanary uses it (buildApp records the lookups of a compile with a record). */
type Finder = Pick<InputIndex, 'find'>;

/** Finds every object the Canary refers to and checks what canarykit cannot honour. */
function resolveCanary(obj: InputObject, index: Finder, problems: Problem[], controller: ControllerSettingsInput = {}, warnings: string[] = []): Resolved | undefined {
  const meshProvider = controller.meshProvider;
  const canary = obj.json as FlaggerCanary;
  const spec = canary.spec;
  const ns = namespaceOf(obj);
  const before = problems.length;
  const at = (segments: (string | number)[], message: string): void => {
    problems.push(fieldProblem(obj, segments, message));
  };
  const notFound = (kind: string, name: string, refNs = ns): string =>
    `${kind} ${refNs}/${name} is not among the inputs; add the file that defines it with -f (objects without metadata.namespace are in namespace default)`;

  if (controller.noCrossNamespaceRefs) {
    for (const [segments, kind, ref] of crossNamespaceRefs(spec)) {
      if (ref.namespace !== undefined && ref.namespace !== '' && ref.namespace !== ns) {
        at(segments, `${kind} ${ref.namespace}/${ref.name} is in another namespace than the Canary, and cross-namespace references are blocked (--no-cross-namespace-refs, controller.noCrossNamespaceRefs of canarykit.yaml)`);
      }
    }
  }

  const choice = providerFor(spec.provider, meshProvider);
  if ('message' in choice) {
    at(['spec', 'provider'], choice.message);
    return undefined;
  }
  const provider = choice.provider;
  const module: ProviderModule<ProviderName, unknown> = PROVIDERS[provider];
  const inPlace = module.rollsOut;
  // Flagger's CRD does not require spec.service (a Knative Canary has none); the others need it,
  // and their mappings read it, so nothing else is checked without it.
  if (!inPlace && !(spec.service as typeof spec.service | undefined)) {
    const t = targetProblem(spec, provider);
    if (t) at(t.segments, t.message);
    else at(['spec'], `missing required field "service" (every provider but ${providerModules().filter((m) => m.rollsOut).map((m) => m.flagger.names[0]).join(', ')} routes through the generated Services)`);
    return undefined;
  }
  for (const u of unsupportedFields(spec, provider, meshProvider)) at(u.segments, u.message);

  const ref = spec.targetRef;
  let target: InputObject | undefined;
  if (inPlace) {
    // unsupportedFields checked the reference's kind and apiVersion.
    target = index.find(inPlace.apiVersion.split('/')[0], inPlace.kind, ns, ref.name);
    if (!target) at(['spec', 'targetRef'], notFound(`${inPlace.apiVersion} ${inPlace.kind}`, ref.name));
  } else if (ref.kind === 'Deployment' || ref.kind === 'DaemonSet') {
    if (ref.apiVersion !== 'apps/v1') at(['spec', 'targetRef', 'apiVersion'], `must be apps/v1 for a ${ref.kind} (got ${ref.apiVersion})`);
    target = index.find('apps', ref.kind, ns, ref.name);
    if (!target) at(['spec', 'targetRef'], notFound(ref.kind, ref.name));
  } else if (ref.kind === 'Service') {
    // service_controller.go reads the target with CoreV1 whatever targetRef.apiVersion says (its tests write core/v1).
    target = index.find('', 'Service', ns, ref.name);
    if (!target) at(['spec', 'targetRef'], notFound('Service', ref.name));
  }

  // Flagger reads a reference by kind and name only, with the current API (hpa_reconciler.go
  // AutoscalingV2, ingress.go NetworkingV1): a removed apiVersion in the reference is ignored, not wrong.
  for (const field of ['autoscalerRef', module.flagger.ref?.field].filter((f): f is NonNullable<typeof f> => f !== undefined)) {
    const r = spec[field] as { apiVersion?: string; kind?: string } | undefined;
    const removed = r?.apiVersion && r.kind ? removedApiProblem(r.apiVersion, r.kind) : undefined;
    if (removed) {
      const p = fieldProblem(obj, ['spec', field, 'apiVersion'], `${removed}; Flagger ignores this apiVersion and reads the ${r!.kind} with the current API, and so does canarykit`);
      warnings.push(`${p.path}: ${p.message}`);
    }
  }

  let autoscaler: InputObject | undefined;
  const scalerRef = spec.autoscalerRef;
  if (scalerRef?.kind === 'HorizontalPodAutoscaler') {
    autoscaler = index.find('autoscaling', 'HorizontalPodAutoscaler', ns, scalerRef.name);
    if (!autoscaler) at(['spec', 'autoscalerRef'], notFound('HorizontalPodAutoscaler', scalerRef.name));
  } else if (scalerRef?.kind === 'ScaledObject') {
    autoscaler = index.find('keda.sh', 'ScaledObject', ns, scalerRef.name);
    if (!autoscaler) at(['spec', 'autoscalerRef'], notFound('keda.sh/v1alpha1 ScaledObject', scalerRef.name));
  }

  let refObject: InputObject | undefined;
  const wanted = module.flagger.ref;
  if (wanted) {
    const named = spec[wanted.field];
    if (!named) at(['spec'], `provider ${providerNamed(spec.provider, meshProvider)} needs spec.${wanted.field}: ${wanted.purpose}`);
    else {
      refObject = index.find(wanted.group, wanted.kind, ns, named.name);
      if (!refObject) at(['spec', wanted.field], notFound(wanted.kind, named.name));
    }
  }

  // Read-only references (Gloo's config Upstream): found, not claimed, so canaries may share one.
  const references = new Map<string, InputObject>();
  for (const r of module.flagger.references ?? []) {
    const ref = spec[r.field] as { apiVersion?: string; kind?: string; name?: string; namespace?: string } | undefined;
    if (!ref?.name) continue;
    const refNs = ref.namespace || ns;
    const found = index.find(r.group, r.kind, refNs, ref.name);
    if (found) references.set(r.field, found);
    else at(['spec', r.field], notFound(r.kind, ref.name, refNs));
  }

  const configMaps: InputObject[] = [];
  // A target rolled out in place gets no ConfigMap copies and no Services: nothing to claim.
  if (target && !inPlace) {
    // ConfigMaps the cluster creates are not in git: untracked, neither claimed nor required (the construct excludes them).
    const untracked = new Set(controller.untrackedConfigMaps ?? []);
    const trackingOff = controller.enableConfigTracking === false;
    for (const cm of findConfigMapRefs((target.json.spec?.template?.spec ?? {}) as Json)) {
      if (untracked.has(cm.name)) continue;
      const found = index.find('', 'ConfigMap', ns, cm.name);
      if (found) configMaps.push(found);
      else if (!cm.optional && !trackingOff) {
        at(['spec', 'targetRef'], `${ref.kind} ${ns}/${ref.name} uses ConfigMap "${cm.name}", which is not among the inputs; add its file with -f so its data is tracked and copied to ${cm.name}-primary, as Flagger does. If the cluster creates it (as istiod creates istio-ca-root-cert), exclude it from tracking with --untracked-configmaps ${cm.name} (controller.untrackedConfigMaps of canarykit.yaml)`);
      }
    }
  }

  const templates = new Map<number, InputObject>();
  (spec.analysis.metrics ?? []).forEach((m, i) => {
    if (!m.templateRef) return;
    const tNs = m.templateRef.namespace ?? ns;
    const t = index.find('flagger.app', 'MetricTemplate', tNs, m.templateRef.name);
    if (!t) {
      at(['spec', 'analysis', 'metrics', i, 'templateRef'], `MetricTemplate ${tNs}/${m.templateRef.name} (used by metric "${m.name}" of ${resourceName(obj)}) is not among the inputs; add the file that defines it with -f`);
      return;
    }
    templates.set(i, t);
    const p = (t.json as FlaggerMetricTemplate).spec.provider;
    const user = `used by ${resourceName(obj)} ${dottedPath(['spec', 'analysis', 'metrics', i])}`;
    // Flagger's factory falls back to prometheus for an unknown type; its CRD's enum refuses one first.
    const spec = metricProviderSpec((p.type ?? 'prometheus') as MetricProviderType);
    if (!spec) problems.push(fieldProblem(t, ['spec', 'provider', 'type'], `"${p.type}" is not a Flagger metrics provider type (${user})`));
    else for (const f of spec.validate(toProviderPlan(p))) problems.push(fieldProblem(t, ['spec', 'provider', ...f.field.split('.')], `${f.message} (${user})`));
  });

  const alertProviders = new Map<number, InputObject>();
  (spec.analysis.alerts ?? []).forEach((a, i) => {
    const pNs = a.providerRef.namespace ?? ns;
    const p = index.find('flagger.app', 'AlertProvider', pNs, a.providerRef.name);
    if (p) alertProviders.set(i, p);
    else at(['spec', 'analysis', 'alerts', i, 'providerRef'], `AlertProvider ${pNs}/${a.providerRef.name} (used by alert "${a.name}" of ${resourceName(obj)}) is not among the inputs; add the file that defines it with -f`);
  });

  if (problems.length > before || !target) return undefined;
  return { provider, target, autoscaler, ref: refObject, references, configMaps, templates, alertProviders, metricsProvider: builtinMetricsProvider(spec.provider, meshProvider) };
}

/** A MetricTemplate's provider as the plan holds it, before the construct's defaults. */
function toProviderPlan(p: FlaggerMetricTemplate['spec']['provider']): MetricProviderPlan {
  return { type: (p.type ?? 'prometheus') as MetricProviderType, address: p.address, headers: p.headers, secretRef: p.secretRef?.name, region: p.region, insecureSkipVerify: p.insecureSkipVerify };
}

/** The references verifyNoCrossNamespaceRefs checks (src: pkg/controller/controller.go). */
function crossNamespaceRefs(spec: FlaggerCanary['spec']): [(string | number)[], string, { name: string; namespace?: string }][] {
  const out: [(string | number)[], string, { name: string; namespace?: string }][] = [];
  const upstream = spec.upstreamRef as { name: string; namespace?: string } | undefined;
  if (upstream) out.push([['spec', 'upstreamRef', 'namespace'], 'upstream', upstream]);
  (spec.analysis.metrics ?? []).forEach((m, i) => {
    if (m.templateRef) out.push([['spec', 'analysis', 'metrics', i, 'templateRef', 'namespace'], 'MetricTemplate', m.templateRef]);
  });
  (spec.analysis.alerts ?? []).forEach((a, i) => {
    if (a.providerRef) out.push([['spec', 'analysis', 'alerts', i, 'providerRef', 'namespace'], 'AlertProvider', a.providerRef]);
  });
  return out;
}

/** Construct prop paths (`provider.istio.match[0]`) -> Canary YAML paths (`spec.service.match[0]`). */
const PROP_TO_SPEC: ReadonlyArray<[string, string]> = [
  ['analysis', 'spec.analysis'],
  ['service', 'spec.service'],
  ['provider.istio', 'spec.service'],
  ['provider.gatewayApi', 'spec.service'],
  ['provider.nginx.ingress', 'spec.ingressRef'],
  ['provider.gloo.upstreamRef', 'spec.upstreamRef'],
  ['provider.skipper.ingress', 'spec.ingressRef'],
  ['provider.apisix.route', 'spec.routeRef'],
  ['provider.kuma.mesh', 'metadata.annotations'],
  ['provider.contour.pathPrefix', 'spec.service.match[0].uri.prefix'],
  ['provider.contour', 'spec.service'],
  ['provider.appmesh.pathPrefix', 'spec.service.match[0].uri.prefix'],
  ['provider.appmesh', 'spec.service'],
  ['target', 'spec.targetRef'],
  ['autoscaler', 'spec.autoscalerRef'],
];

function specSegments(propPath: string): (string | number)[] | undefined {
  for (const [prefix, spec] of PROP_TO_SPEC) {
    if (propPath === prefix || propPath.startsWith(`${prefix}.`) || propPath.startsWith(`${prefix}[`)) {
      const yamlPath = spec + propPath.slice(prefix.length);
      return yamlPath.split(/\.|(?=\[)/).filter(Boolean).map((s) => (/^\[\d+\]$/.test(s) ? Number(s.slice(1, -1)) : s));
    }
  }
  return undefined;
}

/**
 * Rewrites the construct's problems (`[canary0-test-podinfo/canary] analysis.maxWeight: ...`) in
 * terms of the Canary document (`podinfo.yaml#2 Canary test/podinfo: spec.analysis.maxWeight: ...`).
 * The field is read from the problem path, or from the start of the message (`field: text`).
 */
export function explainConstructProblems(problems: readonly Problem[], charts: ReadonlyMap<string, InputObject>): Problem[] {
  return problems.map((p) => {
    const where = /^\[([^/\]]+)[^\]]*\](?: (.+))?$/.exec(p.path);
    const obj = where ? charts.get(where[1]) : undefined;
    if (!where || !obj) return p;
    let field = where[2];
    let message = p.message;
    if (field === undefined) {
      const m = /^([A-Za-z][\w.[\]-]*): ([\s\S]*)$/.exec(p.message);
      if (m) [, field, message] = m;
    }
    const segments = field === undefined ? undefined : specSegments(field);
    if (segments) return fieldProblem(obj, segments, message);
    return fieldProblem(obj, [], field === undefined ? message : `${field}: ${message}`);
  });
}
