import { Duration } from 'cdk8s';
import { Problem } from '../errors';
import { ANALYSIS_BOUNDS } from '../model/analysis-bounds';
import { RoutingCapabilities } from '../providers/module';
import { PROVIDERS, ProviderName } from '../providers/registry';
import { AnalysisSettings, Strategy } from '../model/plan';
import { CanaryAnalysisOptions } from './analysis-options';
import { HttpMatch } from './match';

/** Analysis settings with Flagger's defaults applied, plus the strategy they select. */
export interface ResolvedAnalysis {
  readonly settings: AnalysisSettings;
  readonly strategy: Strategy;
  readonly match: HttpMatch[];
}

const MIN_INTERVAL_SECONDS = 10;
/** A day between analyses is already a week-long rollout; longer is a typo (and overflows timers). */
const MAX_INTERVAL_SECONDS = 86_400;

function seconds(d: Duration | undefined, fallback: number): number {
  return d === undefined ? fallback : d.toSeconds({ integral: false });
}

/**
 * Applies Flagger's defaults (reference §1.1) and checks every field, returning all problems.
 * Where Flagger clamps or replaces a value and runs the canary anyway, canarykit does the same and
 * returns a warning naming what it ran instead (issue 11); other values Flagger would misread are
 * problems with the fix.
 */
export function resolveAnalysis(
  opts: CanaryAnalysisOptions | undefined,
  provider: ProviderName,
  skipAnalysis: boolean,
): { resolved: ResolvedAnalysis; problems: Problem[]; warnings: Problem[] } {
  const routing: RoutingCapabilities = PROVIDERS[provider].capabilities;
  const { analysis: a, warnings } = flaggerClamps(opts ?? {}, provider, routing);
  const problems: Problem[] = [];
  const add = (path: string, message: string): void => {
    problems.push({ path: `analysis.${path}`, message });
  };
  const intRange = (path: string, v: number | undefined, min: number, max: number | undefined): void => {
    if (v === undefined) return;
    if (max === undefined && (!Number.isInteger(v) || v < min)) add(path, `must be an integer of at least ${min} (got ${v})`);
    else if (max !== undefined && (!Number.isInteger(v) || v < min || v > max)) add(path, `must be an integer from ${min} to ${max} (got ${v})`);
  };

  const intervalSeconds = seconds(a.interval, 60);
  if (intervalSeconds < MIN_INTERVAL_SECONDS || intervalSeconds > MAX_INTERVAL_SECONDS || !Number.isInteger(intervalSeconds)) {
    add('interval', `must be a whole number of seconds from ${MIN_INTERVAL_SECONDS}s to ${MAX_INTERVAL_SECONDS}s (24h) (got ${intervalSeconds}s)`);
  }
  for (const field of ['threshold', 'maxWeight', 'stepWeight', 'stepWeightPromotion', 'iterations', 'mirrorWeight', 'primaryReadyThreshold', 'canaryReadyThreshold'] as const) {
    const bounds: { min: number; max?: number } = ANALYSIS_BOUNDS[field];
    intRange(field, a[field], bounds.min, bounds.max);
  }
  const step = ANALYSIS_BOUNDS.stepWeights;
  (a.stepWeights ?? []).forEach((w, i) => {
    if (!Number.isInteger(w) || w < step.min || w > step.max) add(`stepWeights[${i}]`, `must be an integer from ${step.min} to ${step.max} (got ${w})`);
    else if (i > 0 && w <= a.stepWeights![i - 1]) add(`stepWeights[${i}]`, `must be greater than the previous step ${a.stepWeights![i - 1]} (got ${w})`);
  });

  const hasSteps = (a.stepWeight ?? 0) > 0 || (a.stepWeights?.length ?? 0) > 0;
  const hasIterations = (a.iterations ?? 0) > 0;
  if (!routing.shiftsWeights) {
    if (hasSteps) add(a.stepWeight ? 'stepWeight' : 'stepWeights', `provider ${provider} runs blue/green only and shifts no traffic; set iterations instead`);
  } else if (hasSteps && hasIterations) {
    add('iterations', 'set either iterations (A/B, blue/green) or stepWeight/stepWeights (canary), not both');
  } else if (!hasSteps && !hasIterations && !skipAnalysis) {
    add('stepWeight', 'set stepWeight or stepWeights (canary), or iterations (A/B with match, blue/green without), or skipAnalysis');
  }
  if (a.stepWeight && a.stepWeights?.length) add('stepWeights', 'set either stepWeight or stepWeights, not both');
  if (a.mirror && (a.match?.length ?? 0) > 0) add('mirror', 'A/B testing (match) cannot mirror traffic; remove mirror or match');
  if (a.sessionAffinity) {
    if (!a.sessionAffinity.cookieName) add('sessionAffinity.cookieName', 'is required');
    if (a.sessionAffinity.primaryCookieName && a.sessionAffinity.primaryCookieName === a.sessionAffinity.cookieName) {
      add('sessionAffinity.primaryCookieName', 'must differ from cookieName');
    }
  }

  // Kept for every provider: the router reports a match it cannot express (kubernetes cannot).
  const match = [...(a.match ?? [])];
  if ((a.match?.length ?? 0) > 0 && !hasIterations && routing.shiftsWeights) {
    add('match', 'A/B testing needs iterations; set iterations or remove match');
  }
  let iterations = a.iterations ?? 0;
  // Flagger forces blue/green on providers that cannot shift weights (scheduler.go, kubernetes).
  if (routing.forcedBlueGreenIterations !== undefined && iterations < 1) iterations = routing.forcedBlueGreenIterations;
  const strategy: Strategy = match.length > 0 && iterations > 0 ? 'ab-testing' : iterations > 0 ? 'blue-green' : 'canary';

  const stepWeights = [...(a.stepWeights ?? [])];
  const settings: AnalysisSettings = {
    intervalSeconds,
    threshold: a.threshold ?? 1,
    maxWeight: stepWeights.length && !a.stepWeight ? Math.min(100, stepWeights[stepWeights.length - 1]) : a.maxWeight ?? 100,
    stepWeight: a.stepWeight ?? 0,
    stepWeights,
    stepWeightPromotion: a.stepWeightPromotion ?? 0,
    iterations,
    hasMatch: match.length > 0,
    mirror: a.mirror ?? false,
    mirrorWeight: a.mirrorWeight ?? 0,
    primaryReadyThreshold: a.primaryReadyThreshold ?? 100,
    canaryReadyThreshold: a.canaryReadyThreshold ?? 100,
    // Flagger's alert metadata prints the spec's maxWeight, 0 when unset (events.go alertMetadata).
    ...(a.maxWeight === undefined ? { maxWeightUnset: true as const } : {}),
    sessionAffinity: a.sessionAffinity && {
      cookieName: a.sessionAffinity.cookieName,
      primaryCookieName: a.sessionAffinity.primaryCookieName,
      maxAge: seconds(a.sessionAffinity.maxAge, 86400),
      // Go omitempty: unset, false and "" leave the plan (and the cookie) unchanged.
      ...(a.sessionAffinity.domain ? { domain: a.sessionAffinity.domain } : {}),
      ...(a.sessionAffinity.httpOnly ? { httpOnly: true as const } : {}),
      ...(a.sessionAffinity.partitioned ? { partitioned: true as const } : {}),
      ...(a.sessionAffinity.path ? { path: a.sessionAffinity.path } : {}),
      ...(a.sessionAffinity.sameSite ? { sameSite: a.sessionAffinity.sameSite } : {}),
      ...(a.sessionAffinity.secure ? { secure: true as const } : {}),
    },
  };
  return { resolved: { settings, strategy, match }, problems, warnings };
}

/**
 * The values Flagger corrects at run time and still runs, replaced the way Flagger does, with a
 * warning each: canarykit's plan then holds what Flagger would run.
 */
function flaggerClamps(
  a: CanaryAnalysisOptions,
  provider: ProviderName,
  routing: RoutingCapabilities,
): { analysis: CanaryAnalysisOptions; warnings: Problem[] } {
  const warnings: Problem[] = [];
  const warn = (path: string, message: string): void => {
    warnings.push({ path: `analysis.${path}`, message });
  };
  let out: { -readonly [K in keyof CanaryAnalysisOptions]: CanaryAnalysisOptions[K] } = { ...a };
  // src: pkg/apis/flagger/v1beta1/canary.go GetAnalysisInterval: under 10s runs every 10s.
  if (a.interval !== undefined && a.interval.toSeconds({ integral: false }) < MIN_INTERVAL_SECONDS) {
    warn('interval', `${a.interval.toSeconds({ integral: false })}s is under Flagger's minimum; Flagger runs the analysis every ${MIN_INTERVAL_SECONDS}s, and so does canarykit (set interval: ${MIN_INTERVAL_SECONDS}s to silence this)`);
    out.interval = Duration.seconds(MIN_INTERVAL_SECONDS);
  }
  // src: pkg/apis/flagger/v1beta1/canary.go GetAnalysisThreshold: 0 or less means the default, 1.
  if (a.threshold !== undefined && Number.isInteger(a.threshold) && a.threshold < 1) {
    warn('threshold', `${a.threshold} means Flagger's default: the canary is rolled back after 1 failed check (set threshold: 1 to silence this)`);
    out.threshold = 1;
  }
  // src: pkg/controller/scheduler.go maxWeight/nextStepWeight: a step past 100 goes to 100 and promotes.
  const steps = a.stepWeights ?? [];
  const over = steps.findIndex((w) => Number.isInteger(w) && w > 100);
  if (over >= 0 && steps.slice(over).every((w) => Number.isInteger(w) && w >= 100)) {
    warn(`stepWeights[${over}]`, `${steps[over]} is more than 100%; Flagger stops at 100 and promotes, and so does canarykit (stepWeights run as [${[...steps.slice(0, over), 100].join(', ')}])`);
    out.stepWeights = [...steps.slice(0, over), 100];
  }
  // src: pkg/controller/scheduler.go advanceCanary: a provider that cannot shift weights runs
  // blue/green, with 10 iterations when none are set ("Progressive traffic is not supported").
  const hasSteps = (a.stepWeight ?? 0) > 0 || steps.length > 0;
  if (!routing.shiftsWeights && routing.forcedBlueGreenIterations !== undefined && hasSteps && (a.iterations ?? 0) < 1) {
    const field = (a.stepWeight ?? 0) > 0 ? 'stepWeight' : 'stepWeights';
    warn(field, `provider ${provider} shifts no traffic: Flagger runs blue/green with iterations: ${routing.forcedBlueGreenIterations} instead, and so does canarykit (set iterations instead of ${field} to silence this)`);
    // maxWeight stays: Flagger's alert metadata still prints it (events.go alertMetadata).
    const { stepWeight: _w, stepWeights: _ws, ...rest } = out;
    out = rest;
  }
  // src: pkg/controller/scheduler.go advanceCanary: and it drops A/B matches ("A/B testing is not
  // supported when using the kubernetes provider").
  if (routing.forcedBlueGreenIterations !== undefined && (a.match?.length ?? 0) > 0) {
    warn('match', `provider ${provider} cannot route by request: Flagger drops the match and runs blue/green, and so does canarykit (remove match to silence this)`);
    const { match: _match, ...rest } = out;
    out = rest;
  }
  return { analysis: out, warnings };
}
