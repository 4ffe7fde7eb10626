/** Flagger's `-selector-labels` default, walked in order (reference §2.1). */
export const SELECTOR_LABELS = ['app', 'name', 'app.kubernetes.io/name'] as const;

/** The label Flagger keys primary/canary selection on, and its value on the target. */
export interface SelectorLabel {
  readonly key: string;
  readonly value: string;
}

/** First of SELECTOR_LABELS present in `spec.selector.matchLabels`, or undefined. */
export function findSelectorLabel(matchLabels: Record<string, string> | undefined): SelectorLabel | undefined {
  for (const key of SELECTOR_LABELS) {
    const value = matchLabels?.[key];
    if (value !== undefined) return { key, value };
  }
  return undefined;
}
