/**
 * Flagger's controller flags (cmd/flagger/main.go v1.44.0, init and main) that shape what is
 * rendered: one model and one owner of each default, read by the three places a user sets them,
 * `canarykit compile --<flag>`, `controller:` of canarykit.yaml (so the driver's synth agrees) and
 * `CanaryApp({ controller })`. Settings the driver uses at step time (cluster name, the global event
 * webhook, the default notifier) are in driver-settings.ts.
 */

/** The rendering settings, defaults applied. */
export interface ControllerSettings {
  /**
   * `-mesh-provider`: the provider of a Canary without `spec.provider` (compile only; a Canary
   * construct always names its provider). Unset: Flagger's default, owned by compile/support.ts.
   */
  readonly meshProvider?: string;
  /** `-selector-labels`: pod labels tried in order for the selector (canary/deployment_controller.go getSelectorLabel). */
  readonly selectorLabels: readonly string[];
  /**
   * `-include-label-prefix`: label (and, on promotion, annotation) prefixes copied from the target
   * to the primary Deployment and its ConfigMaps (canary/util.go includeLabelsByPrefix); `*` copies all.
   */
  readonly includeLabelPrefix: readonly string[];
  /** `-ingress-annotations-prefix`: the prefix of NGINX's canary annotations (router/ingress.go). */
  readonly ingressAnnotationsPrefix: string;
  /** `-ingress-class`: the class Contour HTTPProxies are given (router/contour.go); '' for none. */
  readonly ingressClass: string;
  /**
   * `-metrics-server`: the Prometheus of the built-in metrics, unless the Canary
   * sets `spec.metricsServer` (scheduler_metrics.go). Not of MetricTemplates: Flagger's Prometheus
   * provider requires their own address (metrics/providers/prometheus.go NewPrometheusProvider).
   */
  readonly metricsServer: string;
  /**
   * `-enable-config-tracking`: false tracks no ConfigMap at all (main.go: canary.NopTracker), the
   * default of every Canary's `configTracking.enabled`.
   */
  readonly enableConfigTracking: boolean;
  /** `-no-cross-namespace-refs`: MetricTemplates and AlertProviders must be in the Canary's namespace (controller.go verifyNoCrossNamespaceRefs). */
  readonly noCrossNamespaceRefs: boolean;
  /**
   * canarykit's own, no Flagger flag: ConfigMaps that the cluster creates (istio-ca-root-cert,
   * mounted by an injected sidecar) and git does not hold. They are never tracked nor copied, in
   * every Canary: the git form of Flagger's `flagger.app/config-tracking: disabled` on an object
   * that is not in git. Added to each Canary's `configTracking.exclude`.
   */
  readonly untrackedConfigMaps: readonly string[];
}

/** What a user gives: any subset. */
export type ControllerSettingsInput = { -readonly [K in keyof ControllerSettings]?: ControllerSettings[K] };

/** Flagger's defaults (main.go init); meshProvider's is the compiler's (compile/support.ts DEFAULT_PROVIDER). */
export const CONTROLLER_DEFAULTS: ControllerSettings = {
  selectorLabels: ['app', 'name', 'app.kubernetes.io/name'],
  includeLabelPrefix: [],
  ingressAnnotationsPrefix: 'nginx.ingress.kubernetes.io',
  ingressClass: '',
  metricsServer: 'http://prometheus:9090',
  enableConfigTracking: true,
  noCrossNamespaceRefs: false,
  untrackedConfigMaps: [],
};

/** One setting as the CLI and canarykit.yaml spell it. */
export interface ControllerFlag {
  /** Key under `controller:` of canarykit.yaml and in CanaryApp's `controller` prop. */
  readonly key: keyof ControllerSettings;
  /** Flagger's flag, also the flag of `canarykit compile`. */
  readonly flag: string;
  /** `list`: comma-separated in Flagger (strings.Split(value, ",")), an array in CanaryApp; `bool`: Go's flag booleans. */
  readonly kind: 'string' | 'list' | 'bool';
  readonly description: string;
  /** canarykit's own setting, not one of Flagger's flags. @default false */
  readonly canarykitOnly?: boolean;
}

/** The flags in main.go order; the CLI, the config schema and the README table are built from it. */
export const CONTROLLER_FLAGS: readonly ControllerFlag[] = [
  { key: 'metricsServer', flag: 'metrics-server', kind: 'string', description: 'Prometheus URL of the built-in metrics (a Canary\'s spec.metricsServer overrides it)' },
  { key: 'includeLabelPrefix', flag: 'include-label-prefix', kind: 'list', description: 'prefixes of the labels copied to primary Deployments and ConfigMaps; * copies all' },
  { key: 'meshProvider', flag: 'mesh-provider', kind: 'string', description: 'the provider of a Canary without spec.provider' },
  { key: 'selectorLabels', flag: 'selector-labels', kind: 'list', description: 'pod labels, tried in order, that Flagger builds selectors from' },
  { key: 'ingressAnnotationsPrefix', flag: 'ingress-annotations-prefix', kind: 'string', description: 'prefix of the NGINX canary annotations' },
  { key: 'ingressClass', flag: 'ingress-class', kind: 'string', description: 'ingress class of Contour HTTPProxy objects' },
  { key: 'enableConfigTracking', flag: 'enable-config-tracking', kind: 'bool', description: 'copy the ConfigMaps the target uses to -primary copies and track their data' },
  { key: 'noCrossNamespaceRefs', flag: 'no-cross-namespace-refs', kind: 'bool', description: 'refuse MetricTemplates, AlertProviders and upstreams of other namespaces' },
  { key: 'untrackedConfigMaps', flag: 'untracked-configmaps', kind: 'list', description: 'ConfigMaps the cluster creates (e.g. istio-ca-root-cert): never tracked nor copied, need not be among the inputs', canarykitOnly: true },
];

/** Go's strconv.ParseBool, which Flagger's boolean flags use; undefined for anything else. */
export function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** Flagger's list flags: strings.Split(value, ","), with the empty string meaning none. */
export function splitFlaggerList(value: string): string[] {
  return value === '' ? [] : value.split(',');
}

/** A label key as Kubernetes validates it: optional DNS-subdomain prefix, `/`, a name of at most 63 characters. */
const LABEL_KEY = /^(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Problems with a settings input, paths `<where><key>` (e.g. `controller.selectorLabels`). */
export function controllerSettingProblems(input: ControllerSettingsInput, where: string): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const at = (key: string, message: string): void => {
    out.push({ path: `${where}${key}`, message });
  };
  if (input.selectorLabels !== undefined) {
    if (input.selectorLabels.length === 0) at('selectorLabels', 'needs at least one label (Flagger: "At least one selector label is required")');
    input.selectorLabels.forEach((l, i) => {
      if (!LABEL_KEY.test(l)) at(`selectorLabels[${i}]`, `${JSON.stringify(l)} is not a label key (comma-separated without spaces, e.g. app,name,app.kubernetes.io/name)`);
    });
  }
  (input.includeLabelPrefix ?? []).forEach((p, i) => {
    // A prefix is the start of a label key; "*" is Flagger's include-everything.
    if (p !== '*' && !/^[-A-Za-z0-9_./]+$/.test(p)) at(`includeLabelPrefix[${i}]`, `${JSON.stringify(p)} is not the start of a label key, nor * (comma-separated without spaces)`);
  });
  if (input.ingressAnnotationsPrefix !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(input.ingressAnnotationsPrefix)) {
    at('ingressAnnotationsPrefix', `${JSON.stringify(input.ingressAnnotationsPrefix)} is not an annotation prefix (a DNS subdomain such as nginx.ingress.kubernetes.io)`);
  }
  if (input.ingressClass !== undefined && input.ingressClass !== '' && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(input.ingressClass)) {
    at('ingressClass', `${JSON.stringify(input.ingressClass)} is not an ingress class name (lowercase letters, digits, "-" and ".")`);
  }
  if (input.metricsServer !== undefined && !/^https?:\/\/\S+$/.test(input.metricsServer)) {
    at('metricsServer', `must be an http or https URL (got ${JSON.stringify(input.metricsServer)})`);
  }
  if (input.meshProvider !== undefined && input.meshProvider === '') at('meshProvider', 'must not be empty');
  (input.untrackedConfigMaps ?? []).forEach((n, i) => {
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(n)) at(`untrackedConfigMaps[${i}]`, `${JSON.stringify(n)} is not a ConfigMap name (comma-separated without spaces)`);
  });
  return out;
}

/** The rendering keys of `input`, with Flagger's defaults for what it leaves unset. */
export function controllerSettings(input: ControllerSettingsInput = {}): ControllerSettings {
  const defined = Object.fromEntries(CONTROLLER_FLAGS.flatMap((f) => (input[f.key] === undefined ? [] : [[f.key, input[f.key]]])));
  return { ...CONTROLLER_DEFAULTS, ...defined };
}

/**
 * Two inputs merged, or the keys where both are set and differ (a flag against canarykit.yaml,
 * canarykit.yaml against a CanaryApp prop): either says it, neither silently wins.
 */
export function mergeControllerSettings(a: ControllerSettingsInput, b: ControllerSettingsInput): { merged: ControllerSettingsInput; conflicts: (keyof ControllerSettings)[] } {
  const merged: ControllerSettingsInput = { ...a };
  const conflicts: (keyof ControllerSettings)[] = [];
  for (const key of Object.keys(b) as (keyof ControllerSettings)[]) {
    const value = b[key];
    if (value === undefined) continue;
    const mine = a[key];
    if (mine !== undefined && JSON.stringify(mine) !== JSON.stringify(value)) conflicts.push(key);
    (merged as Record<string, unknown>)[key] = value;
  }
  return { merged, conflicts };
}

/** A setting's value as Flagger's flag spells it (lists comma-joined). */
export function flagValue(key: keyof ControllerSettings, value: ControllerSettings[keyof ControllerSettings] | undefined): string {
  return Array.isArray(value) ? value.join(',') : String(value ?? '');
}
