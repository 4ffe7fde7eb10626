import { PROVIDERS } from '../../src/providers/registry';

/**
 * README's capability table, rendered from the provider registry (issue 10: "a capability table
 * (provider x canary, A/B, blue/green, mirroring, session affinity, built-in metrics) that a test
 * checks against the registry").
 */
export function providersTable(): string {
  const yes = (b: boolean): string => (b ? 'yes' : '—');
  const rows = Object.values(PROVIDERS).map((m) => {
    const c = m.capabilities;
    const names = m.flagger.names.map((n) => `\`${n}\``).join(', ');
    const ab = c.matchKinds.length > 0 ? c.matchKinds.join(', ') : '—';
    return `| ${names} | ${yes(c.shiftsWeights)} | ${ab} | yes | ${yes(c.mirroring)} | ${yes(c.sessionAffinity)} | ${yes(c.promotionSteps)} | ${m.observer.name} |`;
  });
  return [
    '| `spec.provider` | canary (weights) | A/B match on | blue/green | mirroring | session affinity | `stepWeightPromotion` | built-in metrics (Flagger observer) |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
