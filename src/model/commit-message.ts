import { Phase, PHASES } from './phase';

/** Facts about the rollout after a step, written as git trailers so the driver can read them back. */
export interface CanaryTrailers {
  phase: Phase;
  /** Canary traffic weight in percent. */
  weight: number;
  /** Canary revision (content hash) the step is about. */
  revision: string;
  /** Failed checks counted in the current run. */
  failedChecks: number;
}

/** Trailer keys, in the order they are written. */
export const TRAILER_KEYS = {
  phase: 'Canary-Phase',
  weight: 'Canary-Weight',
  revision: 'Canary-Revision',
  failedChecks: 'Canary-Failed-Checks',
} as const satisfies Record<keyof CanaryTrailers, string>;

/** What one stage commit says. */
export interface StageCommitInput {
  namespace: string;
  name: string;
  /** The step in imperative words, e.g. `advance weight 20 -> 30` or `roll back`. */
  subject: string;
  /** One line per check observed this tick, e.g. `request-success-rate 99.2 >= 99: ok`. */
  checks: readonly string[];
  /** Why the step was taken or withheld; appended to the subject as `: <reason>`. */
  reason?: string;
  trailers: CanaryTrailers;
  /**
   * Metric values measured this tick (pass or fail), written as the `Canary-Metrics` trailer so
   * the exporter and `canarykit report` can read them back from git.
   */
  metrics?: readonly { name: string; value: number }[];
  /** Free-form paragraphs after the checks (the review chart and table), kept as written. */
  sections?: readonly string[];
}

/** Trailer holding the metric values of a stage: `name=value` pairs, names URI-encoded. */
export const METRICS_TRAILER = 'Canary-Metrics';

/** Longest subject line; beyond it the reason is shortened there and kept in full in the body. */
const MAX_SUBJECT = 100;

/**
 * Builds the commit message of a stage change: `canary(<ns>/<name>): <subject>[: <reason>]`, a body
 * listing the checks, and the `Canary-*` trailers as the last paragraph.
 */
export function buildCommitMessage(input: StageCommitInput): string {
  const head = `canary(${input.namespace}/${input.name}): ${oneLine(input.subject)}`;
  const reason = input.reason === undefined ? '' : oneLine(input.reason);
  let subject = reason ? `${head}: ${reason}` : head;
  const paragraphs: string[] = [];
  if (subject.length > MAX_SUBJECT) {
    subject = `${subject.slice(0, MAX_SUBJECT - 1)}…`;
    paragraphs.push(`Reason: ${reason}`);
  }
  // Prefixing "- " keeps a check from reading as a trailer, a comment or git's `---` separator.
  if (input.checks.length > 0) paragraphs.push(input.checks.map((c) => `- ${oneLine(c)}`).join('\n'));
  for (const section of input.sections ?? []) if (section.trim() !== '') paragraphs.push(section.trimEnd());
  const t = input.trailers;
  const values: Record<keyof CanaryTrailers, string> = {
    phase: t.phase,
    weight: String(t.weight),
    revision: t.revision,
    failedChecks: String(t.failedChecks),
  };
  const keys = Object.keys(TRAILER_KEYS) as (keyof CanaryTrailers)[];
  const trailerLines = keys.map((k) => `${TRAILER_KEYS[k]}: ${oneLine(values[k]) || '-'}`);
  const measured = (input.metrics ?? []).filter((m) => Number.isFinite(m.value));
  if (measured.length > 0) trailerLines.unshift(`${METRICS_TRAILER}: ${measured.map((m) => `${encodeURIComponent(m.name)}=${m.value}`).join(' ')}`);
  paragraphs.push(trailerLines.join('\n'));
  return `${[subject, ...paragraphs].join('\n\n')}\n`;
}

const TRAILER_LINE = /^([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$/;

/**
 * Git trailers of a commit message: the last paragraph when every line in it is `Key: value` (or
 * an indented continuation). Stricter than git, which tolerates some free text among trailers.
 * A repeated key keeps its last value.
 */
export function parseTrailers(message: string): Record<string, string> {
  const paragraphs = message.replace(/\r\n/g, '\n').trim().split(/\n[ \t]*\n/);
  // The subject paragraph is never a trailer block, even when it looks like one.
  if (paragraphs.length < 2) return {};
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const line of paragraphs[paragraphs.length - 1].split('\n')) {
    const m = TRAILER_LINE.exec(line);
    if (m) {
      last = m[1];
      out[last] = m[2].trim();
    } else if (last !== undefined && /^[ \t]/.test(line)) {
      out[last] = `${out[last]} ${line.trim()}`.trim();
    } else {
      return {};
    }
  }
  return out;
}

/** The `Canary-*` trailers of a message, or undefined when any is missing or malformed. */
export function readCanaryTrailers(message: string): CanaryTrailers | undefined {
  const raw = parseTrailers(message);
  const phase = raw[TRAILER_KEYS.phase];
  const weight = toCount(raw[TRAILER_KEYS.weight]);
  const failedChecks = toCount(raw[TRAILER_KEYS.failedChecks]);
  const revision = raw[TRAILER_KEYS.revision];
  if (!isPhase(phase) || weight === undefined || failedChecks === undefined || !revision) return undefined;
  return { phase, weight, revision, failedChecks };
}

/** The `Canary-Metrics` trailer of a message: metric name -> value (empty when absent). */
export function readMetricTrailer(message: string): Record<string, number> {
  const raw = parseTrailers(message)[METRICS_TRAILER];
  const out: Record<string, number> = {};
  for (const pair of (raw ?? '').split(/\s+/)) {
    const eq = pair.lastIndexOf('=');
    if (eq <= 0) continue;
    const value = Number(pair.slice(eq + 1));
    if (!Number.isFinite(value)) continue;
    try {
      out[decodeURIComponent(pair.slice(0, eq))] = value;
    } catch {
      // A hand-edited, malformed name: ignore that pair.
    }
  }
  return out;
}

function isPhase(value: string | undefined): value is Phase {
  return (PHASES as readonly string[]).includes(value ?? '');
}

function toCount(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
