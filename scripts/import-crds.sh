#!/usr/bin/env bash
# Regenerates every artefact derived from the offline CRD copies in ../shared/crds (never hand-edit
# them): imports/ (cdk8s import), src/compile/flagger-schema.generated.ts and test/schemas/.
# All are committed, so a clone without ../shared builds and tests; test/generated.test.ts checks
# they are not stale whenever ../shared/crds is present.
set -euo pipefail
cd "$(dirname "$0")/.."
CRDS="${CRDS:-../shared/crds}"
[ -d "$CRDS" ] || { echo "CRD folder $CRDS not found: clone beside shared/ or set CRDS=path/to/crds" >&2; exit 2; }
rm -rf imports && mkdir -p imports
for spec in \
  "istio:=$CRDS/istio-networking-1.30.3.yaml" \
  "gatewayapi:=$CRDS/gateway-api-v1.6.1-httproutes.yaml" \
  "flagger:=$CRDS/flagger-v1.44.0-crd.yaml"; do
  npx cdk8s import "$spec" -l typescript -o imports --no-save --no-check-upgrade
done
npx tsx scripts/gen-flagger-schema.ts "$CRDS/flagger-v1.44.0-crd.yaml"
npx tsx scripts/gen-test-schemas.ts "$CRDS"
