// canarykit's public API: what a cdk8s app, a script driving `compile`, or a reader of the plan
// and state files imports. Everything else is internal and may change without notice.

// The construct and its app.
export { Canary } from './constructs/canary';
export type { CanaryProps } from './constructs/canary';
export { CanaryApp } from './constructs/canary-app';
export type { CanaryAppProps } from './constructs/canary-app';
export type { ControllerSettings, ControllerSettingsInput } from './model/controller-settings';
export { StrictInclude, loadYamlStrict } from './constructs/include';
export type { StrictIncludeProps } from './constructs/include';
export { existingObjects } from './constructs/existing';
export type { ExistingObjects, Manifest } from './constructs/existing';

// Providers and their options.
export { Provider } from './constructs/provider';
export type { GatewayApiProviderOptions, SmiProviderOptions } from './constructs/provider';
export type { IstioOptions, HeaderOperations, RetryOptions } from './providers/istio';
export type { NginxOptions } from './providers/nginx';
export type { GatewayApiOptions, GatewayApiVersion, GatewayRef } from './providers/gateway-api';
export type { ContourOptions, ContourRetryOptions } from './providers/contour';
export type { TraefikOptions } from './providers/traefik';
export type { AppMeshApiVersion, AppMeshOptions, AppMeshRetryOptions } from './providers/appmesh';
export type { GlooOptions, GlooUpstreamManifest } from './providers/gloo';
export type { SkipperOptions } from './providers/skipper';
export type { KumaOptions } from './providers/kuma';
export type { ApisixOptions } from './providers/apisix';
export type { KnativeOptions } from './providers/knative';

// Props types.
export * from './constructs/analysis-options';
export * from './constructs/service-options';
export * from './constructs/match';
export type { ScalerReplicas } from './constructs/workload/autoscaler';
export type { ConfigTrackingOptions } from './constructs/workload/config-tracking';

// Compiling Flagger YAML.
export { compile, compileFiles } from './compile';
export type { CompileOptions, CompileResult, Compiled } from './compile';

// The files canarykit writes: canary.plan.json and the state file.
export { PHASES } from './model/phase';
export type { Phase } from './model/phase';
export { PLAN_API_VERSION, PLAN_FILE } from './model/plan';
export type * from './model/plan';
export { STATE_API_VERSION } from './model/state';
export type { CanaryState, PrimarySnapshot, SessionAffinityState, WorkloadSettings } from './model/state';

// Errors canarykit throws (each carries its exit code).
export {
  UserError, ValidationError, ConfigError, TickError, TemplateRenderError, MetricsError, PrometheusError, WorkspaceNotCleanError,
  PushRejectedError, GitCommandError, CloneBusyError, SynthError, TransitionError,
  GitHubRequestError, GitHubUnavailableError, GitLabRequestError, GitLabUnavailableError,
} from './errors';
export type { Problem, MetricsErrorKind, PrometheusErrorKind } from './errors';
