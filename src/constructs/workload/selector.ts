import { CONTROLLER_DEFAULTS } from '../../model/controller-settings';

/** The label Flagger keys primary/canary selection on, and its value on the target. */
export interface SelectorLabel {
  readonly key: string;
  readonly value: string;
}

/**
 * First of `labels` (Flagger's -selector-labels, in order) present in `spec.selector.matchLabels`,
 * or undefined (src: pkg/canary/deployment_controller.go getSelectorLabel).
 */
export function findSelectorLabel(matchLabels: Record<string, string> | undefined, labels: readonly string[] = CONTROLLER_DEFAULTS.selectorLabels): SelectorLabel | undefined {
  for (const key of labels) {
    const value = matchLabels?.[key];
    if (value !== undefined) return { key, value };
  }
  return undefined;
}

/** Flux's marker: labels and annotations containing it are never copied (src: pkg/canary/util.go toolkitMarker). */
const TOOLKIT_MARKER = 'toolkit.fluxcd.io';

/**
 * The labels whose key starts with one of `prefixes` ("*" matches all, "" none), Flux's own left
 * out (src: pkg/canary/util.go includeLabelsByPrefix). Keys sorted, so output is stable.
 */
export function includeLabelsByPrefix(labels: Record<string, string> | undefined, prefixes: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(labels ?? {}).sort()) {
    if (key.includes(TOOLKIT_MARKER)) continue;
    if (prefixes.some((p) => p === '*' || (p !== '' && key.startsWith(p)))) out[key] = labels![key];
  }
  return out;
}
