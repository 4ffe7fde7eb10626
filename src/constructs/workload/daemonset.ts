import { Json } from './deployment-json';
import { buildPrimaryDeployment, PrimaryInput } from './primary';

// DaemonSet targets (src: pkg/canary/daemonset_controller.go). A DaemonSet has no replicas: Flagger
// "scales it to zero" by adding a node selector no node carries, and back by removing it.

/** The node selector Flagger adds to a DaemonSet it scales to zero (src: daemonSetScaleDownNodeSelector). */
export const SCALE_TO_ZERO_KEY = 'flagger.app/scale-to-zero';

/**
 * `<target>-primary` as createPrimaryDaemonSet/Promote build it: the same metadata, selector and
 * pod template rules as a primary Deployment, with minReadySeconds, revisionHistoryLimit and
 * updateStrategy copied (the state's `workload.strategy` holds the DaemonSet's updateStrategy),
 * and the scale-to-zero node selector never carried over (Promote deletes it).
 */
export function buildPrimaryDaemonSet(input: PrimaryInput): Json {
  const dep = buildPrimaryDeployment({ ...input, hasAutoscaler: true });
  const w = input.snapshot.workload;
  const podSpec = withoutScaleToZero({ spec: dep.spec.template.spec }).spec;
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: dep.metadata,
    spec: {
      minReadySeconds: w.minReadySeconds,
      revisionHistoryLimit: w.revisionHistoryLimit,
      updateStrategy: w.strategy,
      selector: dep.spec.selector,
      template: { metadata: dep.spec.template.metadata, spec: podSpec },
    },
  };
}

/** The target's node selectors with Flagger's scale-to-zero one added (ScaleToZero). */
export function scaledToZeroNodeSelector(podSpec: Json): Record<string, string> {
  return { ...podSpec.nodeSelector, [SCALE_TO_ZERO_KEY]: 'true' };
}

/** A pod template without the scale-to-zero node selector (an emptied map is left out, as Go's omitempty does). */
export function withoutScaleToZero(template: Json): Json {
  const sel = template.spec?.nodeSelector;
  if (!sel || !(SCALE_TO_ZERO_KEY in sel)) return template;
  const nodeSelector = { ...sel };
  delete nodeSelector[SCALE_TO_ZERO_KEY];
  const spec = { ...template.spec, nodeSelector };
  if (Object.keys(nodeSelector).length === 0) delete spec.nodeSelector;
  return { ...template, spec };
}

/**
 * createPrimaryDaemonSet refuses any updateStrategy but RollingUpdate: an OnDelete primary would
 * never roll out a promotion.
 */
export function daemonSetStrategyProblem(updateStrategy: Json | undefined): string | undefined {
  const type = updateStrategy?.type;
  if (type === undefined || type === '' || type === 'RollingUpdate') return undefined;
  return `spec.updateStrategy.type must be RollingUpdate for a DaemonSet target (got ${type}): Flagger rolls the primary out by updating its template`;
}
