import { Problem } from '../errors';
import { PlannedAlert } from '../model/plan';
import { AlertOptions } from './analysis-options';

const SEVERITIES = ['info', 'warn', 'error'];
const TYPES = ['slack', 'msteams', 'discord', 'rocket', 'gchat'];

/** Alerts with Flagger's provider defaults applied (channel `general`, username `flagger`). */
export function planAlerts(alerts: readonly AlertOptions[], namespace: string): { alerts: PlannedAlert[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const planned = alerts.map((a, i) => {
    const path = `analysis.alerts[${i}]`;
    const p = a.provider ?? ({} as AlertOptions['provider']);
    if (!a.name) problems.push({ path: `${path}.name`, message: 'is required' });
    else if (seen.has(a.name)) problems.push({ path: `${path}.name`, message: `duplicate alert name "${a.name}"` });
    seen.add(a.name);
    if (!SEVERITIES.includes(a.severity)) {
      problems.push({ path: `${path}.severity`, message: `must be one of ${SEVERITIES.join(', ')} (got ${JSON.stringify(a.severity)}); Flagger sends nothing to an alert without a severity` });
    }
    if (!TYPES.includes(p.type)) problems.push({ path: `${path}.provider.type`, message: `must be one of ${TYPES.join(', ')} (got ${JSON.stringify(p.type)})` });
    if (!p.address && !p.secretRef) problems.push({ path: `${path}.provider`, message: 'set address or secretRef' });
    if (p.address && !/^https?:\/\//.test(p.address)) problems.push({ path: `${path}.provider.address`, message: `must be an http(s) URL (got ${JSON.stringify(p.address)})` });
    const alert: PlannedAlert = {
      name: a.name,
      severity: a.severity,
      provider: {
        name: p.name,
        namespace: p.namespace ?? namespace,
        type: p.type,
        channel: p.channel || 'general',
        username: p.username || 'flagger',
        address: p.address || undefined,
        proxy: p.proxy || undefined,
        secretRef: p.secretRef || undefined,
      },
    };
    return alert;
  });
  return { alerts: planned, problems };
}
