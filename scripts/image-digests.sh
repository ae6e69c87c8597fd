#!/usr/bin/env bash
# Resolves the digest of every service image for one commit and tags that exact manifest list
# with TARGET_TAG, so that later stages can deploy by digest (D17). A service built in this run
# brings its digest in DIGEST_DIR/<service>; any other service is resolved from SOURCE_TAG.
# Tagging uses `docker buildx imagetools create`, a registry-side copy of the manifest list
# that keeps every architecture, never pull/tag/push on a single-architecture runner.
#   REGISTRY, IMAGE_ORG   image location, e.g. docker.io and auditflow
#   SOURCE_TAG            tag to resolve services not built in this run (e.g. main, sha-<commit>)
#   TARGET_TAG            tag to point at the resolved digests (e.g. sha-<commit>, v1.2.3)
#   DIGEST_DIR            optional directory of <service> files holding fresh digests
# Writes digests=<json object service -> sha256:...> to $GITHUB_OUTPUT (or stdout).
set -euo pipefail

: "${REGISTRY:?}" "${IMAGE_ORG:?}" "${SOURCE_TAG:?}" "${TARGET_TAG:?}"
mapfile -t services < <(jq -r '.services[].name' "$(dirname "$0")/../services.json") # generated from src/common/src/services.ts
[ ${#services[@]} -gt 0 ] || { echo "error: no service list in services.json (is jq installed?)" >&2; exit 1; }
digest_re='^sha256:[0-9a-f]{64}$'
tag_re='^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'
for tag in "$SOURCE_TAG" "$TARGET_TAG"; do
  [[ $tag =~ $tag_re ]] || { echo "error: invalid tag '$tag'" >&2; exit 1; }
done

json='{}'
for svc in "${services[@]}"; do
  repo="$REGISTRY/$IMAGE_ORG/$svc"
  digest=""
  if [ -n "${DIGEST_DIR:-}" ] && [ -f "$DIGEST_DIR/$svc" ]; then
    digest=$(tr -d '[:space:]' <"$DIGEST_DIR/$svc")
  else
    if ! digest=$(docker buildx imagetools inspect "$repo:$SOURCE_TAG" --format '{{json .Manifest}}' | jq -r .digest); then
      echo "error: $repo:$SOURCE_TAG does not exist; run the images workflow with build-all" >&2
      exit 1
    fi
  fi
  [[ $digest =~ $digest_re ]] || { echo "error: $svc: '$digest' is not a sha256 digest" >&2; exit 1; }
  # Only a multi-architecture index that includes the cluster's arm64 may be tagged.
  platforms=$(docker buildx imagetools inspect "$repo@$digest" --format '{{json .Manifest}}' |
    jq -r '[.manifests[]?.platform | select(. != null) | "\(.os)/\(.architecture)"] | join(",")')
  case ",$platforms," in
  *,linux/arm64,*) ;;
  *)
    echo "error: $repo@$digest has no linux/arm64 image (platforms: $platforms)" >&2
    exit 1
    ;;
  esac
  docker buildx imagetools create --tag "$repo:$TARGET_TAG" "$repo@$digest"
  echo "$svc: $digest ($platforms)"
  json=$(jq -c --arg s "$svc" --arg d "$digest" '. + {($s): $d}' <<<"$json")
done
echo "digests=$json" >>"${GITHUB_OUTPUT:-/dev/stdout}"
