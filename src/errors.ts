/**
 * One vocabulary of typed errors. The CLI maps them to exit codes in one place (src/cli.ts):
 * user errors print their message without a stack, internal errors print a stack.
 */

/** A single problem with user input: where it is and what is expected instead. */
export interface Problem {
  /** Where: a construct path, a file path plus field path, or a CLI flag. */
  readonly path: string;
  /** What is wrong and what is expected. */
  readonly message: string;
}

/** Base class: an error the user can fix by changing input or configuration. Exit code 2. */
export class UserError extends Error {
  readonly exitCode: number = 2;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Invalid props, spec, state file or YAML input; carries every problem found, not just the first. */
export class ValidationError extends UserError {
  constructor(readonly problems: readonly Problem[], headline = 'invalid input') {
    super(`${headline}:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
  }
}

/** Configuration (canarykit.yaml, flags, environment) is missing or wrong. */
export class ConfigError extends UserError {}

/**
 * A plan in the output folder written by an older canarykit (it lacks facts this version reads).
 * The driver re-synthesizes once and reads again; elsewhere it asks for a synth.
 */
export class StalePlanError extends ValidationError {}

/**
 * A tick could not complete for a technical reason (remote unreachable, push kept being rejected,
 * synth command failed). Nothing half-written is left behind. Exit code 1 when the next scheduled
 * run may succeed (retryable), 3 when it cannot until someone fixes the cause (terminal).
 */
export class TickError extends Error {
  constructor(message: string, readonly retryable = true) {
    super(message);
    this.name = 'TickError';
  }

  /** The CLI's exit code (Kargo's distinction: retryable 1, terminal 3). */
  get exitCode(): number {
    return this.retryable ? 1 : 3;
  }
}

export function formatProblem(p: Problem): string {
  return `${p.path}: ${p.message}`;
}

/** Collects problems so validation can report all of them at once. */
export class ProblemList {
  private readonly items: Problem[] = [];
  add(path: string, message: string): void {
    this.items.push({ path, message });
  }
  addAll(problems: readonly Problem[]): void {
    this.items.push(...problems);
  }
  get problems(): readonly Problem[] {
    return this.items;
  }
  get empty(): boolean {
    return this.items.length === 0;
  }
  throwIfAny(headline?: string): void {
    if (!this.empty) throw new ValidationError(this.items, headline);
  }
}

/**
 * A metric query template could not be rendered. Flagger renders with `missingkey=error`, so a
 * missing variable or unknown function is a failed check, never an empty substitution.
 */
export class TemplateRenderError extends UserError {
  constructor(
    message: string,
    /** The `{{ ... }}` action that failed, as written. */
    readonly expression: string,
    /** The variable or function the action referred to, when there is one. */
    readonly variable?: string,
  ) {
    super(message);
  }
}

/**
 * How a metrics query failed: callers tell a server they could not reach (`unreachable`,
 * `timeout`) from a query the provider rejected (`bad-query`: Prometheus' HTTP 400/422, or a
 * range/scalar result where an instant vector is needed), another HTTP error (`http`) or an
 * unreadable answer (`bad-response`).
 */
export type MetricsErrorKind = 'unreachable' | 'timeout' | 'bad-query' | 'http' | 'bad-response';
/** @deprecated the same kinds, named before canarykit queried other providers. */
export type PrometheusErrorKind = MetricsErrorKind;

/**
 * A query to a metrics provider (Prometheus, Datadog, CloudWatch…) failed. Its message names the
 * provider and address and never carries credentials.
 */
export class MetricsError extends TickError {
  constructor(
    readonly kind: MetricsErrorKind,
    message: string,
    /** Server address with any userinfo removed. */
    readonly address: string,
    /** HTTP status, when the server answered. */
    readonly status?: number,
  ) {
    // Retrying helps when the server is down or overloaded, never when the query itself is wrong.
    super(message, kind === 'unreachable' || kind === 'timeout' || (kind === 'http' && (status ?? 500) >= 500));
    this.name = 'MetricsError';
  }
}

/** A Prometheus query failed (readiness, built-in metrics and Prometheus MetricTemplates). */
export class PrometheusError extends MetricsError {
  constructor(kind: MetricsErrorKind, message: string, address: string, status?: number) {
    super(kind, message, address, status);
    this.name = 'PrometheusError';
  }
}

/**
 * The driver's git workspace holds work canarykit must not overwrite: uncommitted edits to tracked
 * files, or unpushed commits made by someone other than canarykit.
 */
export class WorkspaceNotCleanError extends UserError {
  constructor(
    message: string,
    /** The paths or commits that block the sync. */
    readonly items: readonly string[],
  ) {
    super(message);
  }
}

/** The remote branch moved between fetch and push. Retry the tick from fresh observations. */
export class PushRejectedError extends TickError {
  constructor(message: string) {
    super(message, true);
    this.name = 'PushRejectedError';
  }
}

/** A git command failed for a technical reason (remote unreachable, hook declined). Never carries credentials. */
export class GitCommandError extends TickError {
  constructor(message: string, retryable = true) {
    super(message, retryable);
    this.name = 'GitCommandError';
  }
}

/** Another canarykit tick holds the clone right now. Nothing was done; the next run proceeds. Exit code 1. */
export class CloneBusyError extends TickError {
  constructor(message: string) {
    super(message, true);
    this.name = 'CloneBusyError';
  }
}

/** The project's synth command failed: the app or its inputs are invalid. Nothing was committed. */
export class SynthError extends UserError {}

/** The requested transition is not possible from the committed stage. */
export class TransitionError extends UserError {}

/**
 * GitHub answered with an error that a person has to fix (bad token, missing permission, unknown
 * repository, a request GitHub refuses). Exit code 2.
 */
export class GitHubRequestError extends ConfigError {
  constructor(
    message: string,
    /** HTTP status. */
    readonly status: number,
    /** GitHub's `message` field, redacted. */
    readonly apiMessage: string,
  ) {
    super(message);
  }
}

/** GitHub could not be reached, timed out, rate-limited us or failed (5xx). Retry later. Exit code 1. */
export class GitHubUnavailableError extends TickError {
  constructor(message: string, readonly status?: number) {
    super(message, true);
    this.name = 'GitHubUnavailableError';
  }
}

/**
 * GitLab answered with an error that a person has to fix (bad token, missing role or scope,
 * unknown project, a request GitLab refuses). Exit code 2.
 */
export class GitLabRequestError extends ConfigError {
  constructor(
    message: string,
    /** HTTP status. */
    readonly status: number,
    /** GitLab's `message`/`error` field, redacted. */
    readonly apiMessage: string,
  ) {
    super(message);
  }
}

/** GitLab could not be reached, timed out, rate-limited us or failed (5xx). Retry later. Exit code 1. */
export class GitLabUnavailableError extends TickError {
  constructor(message: string, readonly status?: number) {
    super(message, true);
    this.name = 'GitLabUnavailableError';
  }
}
