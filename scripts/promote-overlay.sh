#!/usr/bin/env bash
# Promotes the exact images running in the previous environment into TARGET through its
# Kustomize overlay: staging -> preprod, preprod -> prod. The digests are read from the source
# namespace's Deployments, written into a throw-away kustomization layered on the overlay
# (the committed overlay is never edited), applied, and every rollout is awaited. The Secrets
# the overlay references are created first when missing (k8s/base/create-secrets.sh never
# replaces one), so a first promotion does not wait out its rollout timeout.
#   TARGET               preprod or prod
#   REGISTRY, IMAGE_ORG  image location (default docker.io, auditflow)
#   KUBECTL              kubectl binary (default kubectl)
#   HELM                 helm binary, for create-secrets.sh (default helm)
set -euo pipefail
cd "$(dirname "$0")/.."

case "${TARGET:-}" in
preprod) source_ns=staging ;;
prod) source_ns=preprod ;;
*)
  echo "error: TARGET must be preprod or prod" >&2
  exit 1
  ;;
esac
registry=${REGISTRY:-docker.io}
org=${IMAGE_ORG:-auditflow}
kubectl=${KUBECTL:-kubectl}
overlay="k8s/overlays/$TARGET"
[ -f "$overlay/kustomization.yaml" ] || { echo "error: no overlay at $overlay" >&2; exit 1; }

running=$("$kubectl" --namespace "$source_ns" get deployments \
  -o jsonpath='{range .items[*]}{range .spec.template.spec.containers[*]}{.image}{"\n"}{end}{end}')

# Kustomize only accepts relative resource paths, so the layer lives inside the checkout.
work=$(mktemp -d "$PWD/.promote.XXXXXX")
trap 'rm -rf "$work"' EXIT
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  echo "  - ../$overlay"
  echo "images:"
} >"$work/kustomization.yaml"
expected=()

mapfile -t services < <(jq -r '.services[].name' "$(dirname "$0")/../services.json") # generated from src/common/src/services.ts
[ ${#services[@]} -gt 0 ] || { echo "error: no service list in services.json (is jq installed?)" >&2; exit 1; }
for svc in "${services[@]}"; do
  repo="$registry/$org/$svc"
  digest=$(printf '%s\n' "$running" | sed -n "s|^$repo\(:[^@]*\)\{0,1\}@\(sha256:[0-9a-f]\{64\}\)$|\2|p" | sort -u)
  if [ "$(printf '%s\n' "$digest" | grep -c '^sha256:')" -ne 1 ]; then
    echo "error: $source_ns does not run exactly one digest-pinned $repo (found: ${digest:-none})" >&2
    exit 1
  fi
  echo "$svc: $digest (from $source_ns)"
  # The overlay names its images by the base's reference (docker.io/auditflow/<svc>); an entry
  # keyed by the operator's own registry or organisation would match nothing and kustomize
  # would silently keep the base tag, so the base name is matched and rewritten to $repo.
  printf '  - name: docker.io/auditflow/%s\n    newName: %s\n    digest: %s\n' "$svc" "$repo" "$digest" >>"$work/kustomization.yaml"
  expected+=("$repo@$digest")
done

"$kubectl" kustomize "$work" >"$work/rendered.yaml"
# Nothing is applied unless every service really runs the promoted digest.
for image in "${expected[@]}"; do
  grep -q "^ *image: $image\$" "$work/rendered.yaml" || {
    echo "error: the rendered $TARGET overlay does not use $image; nothing was applied" >&2
    exit 1
  }
done
if grep -E '^ *image: [^ ]*/(audit-event-generator|audit-log-analysis|notification-service|event-audit-dashboard|audit-ingest)(:[^@ ]*)?$' "$work/rendered.yaml" >&2; then
  echo "error: the rendered $TARGET overlay keeps a service image on a tag (above); nothing was applied" >&2
  exit 1
fi
KUBECTL=$kubectl k8s/base/create-secrets.sh "$TARGET"
"$kubectl" apply --server-side --field-manager=auditflow-promote -f "$work/rendered.yaml"
for deployment in $("$kubectl" --namespace "$TARGET" get deployments -o name); do
  "$kubectl" --namespace "$TARGET" rollout status "$deployment" --timeout=10m
done
