import { ApiObject, JsonPatch } from 'cdk8s';
import { CanaryWorkloadPlan } from '../../model/plan';
import { CanaryState } from '../../model/state';
import { RevisionRouter, StageRevisions, TargetField } from '../../providers/router';

// A target rolled out in place (a Knative Service, src: pkg/canary/knative_controller.go): Flagger
// makes no primary copy; the primary is a revision of the target the router keeps routing to.
// In git the revision names are derived, never read from the cluster: the canary is the target's
// current template, the primary the template the state file recorded at the last promotion.

/** The revisions a stage routes between, named by the provider from templates and their hashes. */
export function stageRevisions(router: RevisionRouter, targetName: string, canary: CanaryWorkloadPlan, state: CanaryState): StageRevisions {
  return {
    primary: router.revisionName(targetName, state.primary.template, state.primary.revision),
    canary: router.revisionName(targetName, canary.template, canary.revision),
    primaryHash: state.primary.revision,
    canaryHash: canary.revision,
  };
}

/** Sets each field on the target's manifest (JSON patch `add` replaces a value that is present). */
export function setTargetFields(target: ApiObject, fields: readonly TargetField[]): void {
  for (const f of fields) target.addJsonPatch(JsonPatch.add(f.pointer, f.value));
}
