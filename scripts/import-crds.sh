#!/usr/bin/env bash
# Regenerates imports/ from the offline CRD copies in ../shared/crds (never hand-edit imports/).
set -euo pipefail
cd "$(dirname "$0")/.."
CRDS="${CRDS:-../shared/crds}"
rm -rf imports && mkdir -p imports
for spec in \
  "istio:=$CRDS/istio-networking-1.30.3.yaml" \
  "gatewayapi:=$CRDS/gateway-api-v1.6.1-httproutes.yaml" \
  "flagger:=$CRDS/flagger-v1.44.0-crd.yaml"; do
  npx cdk8s import "$spec" -l typescript -o imports --no-save --no-check-upgrade
done
