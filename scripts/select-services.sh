#!/usr/bin/env bash
# Turns dorny/paths-filter's list of changed filters into the JSON list of service images to
# build. Inputs come through the environment only, never through workflow expressions.
#   CHANGES    JSON array of changed filter names, e.g. ["shared","audit-log-analysis","chart"]
#   BUILD_ALL  "true" to build every service
# Writes services=<json> to $GITHUB_OUTPUT (or stdout outside Actions).
set -euo pipefail

# The service list is services.json (generated from src/common/src/services.ts).
mapfile -t services < <(jq -r '.services[].name' "$(dirname "$0")/../services.json")
[ ${#services[@]} -gt 0 ] || { echo "error: no service list in services.json (is jq installed?)" >&2; exit 1; }
selected=()
for svc in "${services[@]}"; do
  if [ "${BUILD_ALL:-false}" = "true" ] || jq -e --arg s "$svc" 'index($s) != null' <<<"${CHANGES:-[]}" >/dev/null; then
    selected+=("$svc")
  fi
done

if [ ${#selected[@]} -eq 0 ]; then
  json='[]'
else
  json=$(printf '%s\n' "${selected[@]}" | jq -R . | jq -cs .)
fi
echo "services: $json"
echo "services=$json" >>"${GITHUB_OUTPUT:-/dev/stdout}"
