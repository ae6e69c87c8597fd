#!/usr/bin/env bash
# Chart and overlay verification for CI: helm lint and render the umbrella chart with every
# environment values file and every subchart on its own (values.schema.json is enforced by
# both), and build both Kustomize overlays. Fails on the first error.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-tools.sh >/dev/null
helm=${HELM:-.tools/bin/helm}
chart=k8s/charts/auditflow-platform

"$helm" lint --strict "$chart"
for values in "$chart"/values-*.yaml; do
  echo "render $values"
  "$helm" lint --strict "$chart" --values "$values" >/dev/null
  "$helm" template auditflow "$chart" --namespace verify --values "$values" >/dev/null
done
for sub in "$chart"/charts/*/; do
  echo "render subchart $sub"
  "$helm" template auditflow "$sub" --namespace verify >/dev/null
done
for overlay in k8s/overlays/*/; do
  echo "build overlay $overlay"
  kubectl kustomize "$overlay" >/dev/null
done
echo "charts and overlays verified"
