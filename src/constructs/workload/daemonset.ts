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
  const podSpec = { ...dep.spec.template.spec };
  const nodeSelector = withoutScaleToZero(podSpec.nodeSelector);
  // An empty map is what Go's omitempty leaves out.
  if (nodeSelector && Object.keys(nodeSelector).length > 0) podSpec.nodeSelector = nodeSelector;
  else delete podSpec.nodeSelector;
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

function withoutScaleToZero(sel: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!sel) return undefined;
  const out = { ...sel };
  delete out[SCALE_TO_ZERO_KEY];
  return out;
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
