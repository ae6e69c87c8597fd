#!/usr/bin/env bash
# Installs or upgrades the auditflow-platform chart with every service image pinned by digest,
# then runs `helm test`. Used by the deploy-helm workflow on the in-cluster runner and usable
# by hand with a kubeconfig.
#   NAMESPACE    target namespace (dev, staging)
#   RELEASE      Helm release name (default afp, as in README.md)
#   VALUES_FILE  values file inside the chart directory (values-dev.yaml, values-staging.yaml)
#   DIGESTS      JSON object {"<service>": "sha256:<64 hex>"} for the four services
#   REGISTRY, IMAGE_ORG   image location (default docker.io, auditflow)
#   HELM_TIMEOUT how long --wait may take (default 10m)
set -euo pipefail
cd "$(dirname "$0")/.."

: "${NAMESPACE:?}" "${VALUES_FILE:?}" "${DIGESTS:?}"
release=${RELEASE:-afp}
registry=${REGISTRY:-docker.io}
org=${IMAGE_ORG:-auditflow}
chart=k8s/charts/auditflow-platform
helm=${HELM:-helm}

name_re='^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
[[ $NAMESPACE =~ $name_re ]] || { echo "error: invalid namespace '$NAMESPACE'" >&2; exit 1; }
[[ $release =~ $name_re ]] || { echo "error: invalid release '$release'" >&2; exit 1; }
if ! [[ $VALUES_FILE =~ ^values-[a-z]+\.yaml$ ]] || [ ! -f "$chart/$VALUES_FILE" ]; then
  echo "error: no values file '$VALUES_FILE' in $chart" >&2
  exit 1
fi

args=(--set-string "global.imageRepositoryPrefix=$org")
mapfile -t services < <(jq -r '.services[].name' "$(dirname "$0")/../services.json") # generated from src/common/src/services.ts
[ ${#services[@]} -gt 0 ] || { echo "error: no service list in services.json (is jq installed?)" >&2; exit 1; }
for svc in "${services[@]}"; do
  digest=$(jq -r --arg s "$svc" '.[$s] // ""' <<<"$DIGESTS")
  # Only a digest is ever deployed; a tag could move under the release (D17).
  [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "error: no valid digest for $svc in DIGESTS" >&2; exit 1; }
  args+=(
    --set-string "$svc.image.registry=$registry"
    --set-string "$svc.image.digest=$digest"
  )
done

# No --create-namespace: the github-runner playbook creates the platform namespaces, and the
# runner's service account is deliberately not allowed to create namespaces.
"$helm" upgrade --install "$release" "$chart" \
  --namespace "$NAMESPACE" \
  --values "$chart/$VALUES_FILE" \
  "${args[@]}" \
  --atomic --wait --timeout "${HELM_TIMEOUT:-10m}" \
  --history-max 10

"$helm" test "$release" --namespace "$NAMESPACE" --timeout 10m --logs
