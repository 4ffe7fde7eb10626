import { PrimarySnapshot } from '../../model/state';
import { deterministicId } from '../revision';
import { DeploymentJson, Json, clone, nonEmpty, withoutFluxKeys } from './deployment-json';
import { renameTrackedConfigMaps } from './config-tracking';
import { SelectorLabel } from './selector';

export interface PrimaryInput {
  readonly targetName: string;
  readonly namespace: string;
  readonly selector: SelectorLabel;
  /** Flagger's -selector-labels: every one of them is rewritten in anti-affinity and spread selectors. */
  readonly selectorLabels: readonly string[];
  readonly snapshot: PrimarySnapshot;
  /** With an autoscaler the HPA owns replicas, so git must not pin them. */
  readonly hasAutoscaler: boolean;
}

/**
 * `<target>-primary`, rebuilt from the primary snapshot the way Flagger builds it (reference §2.2):
 * only the selector label survives in the selector, its value gets `-primary`, tracked ConfigMaps
 * are renamed, and anti-affinity/topology selectors that name the target move to the primary.
 */
export function buildPrimaryDeployment(input: PrimaryInput): DeploymentJson {
  const { selector, snapshot, targetName } = input;
  const primaryValue = `${selector.value}-primary`;
  const template = clone(snapshot.template) as DeploymentJson['spec']['template'];
  const podLabels = { ...withoutFluxKeys(template.metadata?.labels), [selector.key]: primaryValue };
  const podAnnotations = {
    ...withoutFluxKeys(template.metadata?.annotations),
    'flagger-id': deterministicId(snapshot.revision),
  };
  const tracked = new Set(Object.keys(snapshot.configMaps));
  const podSpec = rewriteAffinity(renameTrackedConfigMaps(template.spec ?? {}, tracked), input.selectorLabels, targetName);
  const w = snapshot.workload;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: `${targetName}-primary`,
      namespace: input.namespace,
      // makePrimaryLabels: the labels -include-label-prefix kept, the selector label last.
      labels: { ...withoutKey(snapshot.labels, selector.key), [selector.key]: primaryValue },
      annotations: nonEmpty(withoutFluxKeys(snapshot.annotations)),
    },
    spec: {
      replicas: input.hasAutoscaler ? undefined : w.replicas && w.replicas > 0 ? w.replicas : 1,
      minReadySeconds: w.minReadySeconds,
      progressDeadlineSeconds: w.progressDeadlineSeconds,
      revisionHistoryLimit: w.revisionHistoryLimit,
      strategy: w.strategy,
      selector: { matchLabels: { [selector.key]: primaryValue } },
      template: {
        metadata: { ...template.metadata, labels: podLabels, annotations: podAnnotations },
        spec: podSpec,
      },
    },
  };
}

function withoutKey(labels: Record<string, string> | undefined, key: string): Record<string, string> {
  const out = { ...labels };
  delete out[key];
  return out;
}

/**
 * Flagger appends `-primary` to values equal to the target name of any selector label (not only
 * the one chosen) in pod anti-affinity and topologySpreadConstraints, so primary pods spread among
 * themselves (src: pkg/canary/deployment_controller.go appendPrimarySuffixToValuesIfNeeded).
 */
function rewriteAffinity(podSpec: Json, labelKeys: readonly string[], targetName: string): Json {
  const fix = (sel: Json | undefined): void => {
    if (!sel) return;
    for (const labelKey of labelKeys) if (sel.matchLabels?.[labelKey] === targetName) sel.matchLabels[labelKey] = `${targetName}-primary`;
    for (const expr of sel.matchExpressions ?? []) {
      if (labelKeys.includes(expr.key) && Array.isArray(expr.values)) {
        expr.values = expr.values.map((v: string) => (v === targetName ? `${targetName}-primary` : v));
      }
    }
  };
  for (const tsc of podSpec.topologySpreadConstraints ?? []) fix(tsc.labelSelector);
  const anti = podSpec.affinity?.podAntiAffinity;
  for (const term of anti?.requiredDuringSchedulingIgnoredDuringExecution ?? []) fix(term.labelSelector);
  for (const term of anti?.preferredDuringSchedulingIgnoredDuringExecution ?? []) fix(term.podAffinityTerm?.labelSelector);
  return podSpec;
}
