#!/usr/bin/env bash
# Installs pinned helm and kubectl for the deploy workflows into the runner's tool cache (on
# the runner's persistent volume, so it happens once per version). Each archive is verified
# against the SHA-256 that the project publishes next to it before anything is unpacked.
#   TOOLS_DIR  install location (default $RUNNER_TOOL_CACHE/auditflow or ~/.cache/auditflow-tools)
set -euo pipefail

helm_version=v3.17.3
kubectl_version=v1.32.9

case "$(uname -m)" in
aarch64 | arm64) arch=arm64 ;;
x86_64 | amd64) arch=amd64 ;;
*)
  echo "error: unsupported architecture $(uname -m)" >&2
  exit 1
  ;;
esac

tools_dir=${TOOLS_DIR:-${RUNNER_TOOL_CACHE:-$HOME/.cache}/auditflow-tools}
bin_dir="$tools_dir/bin"
mkdir -p "$bin_dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch_verified() {
  local url=$1 sum_url=$2 out=$3 expected
  curl -fsSL --retry 3 -o "$out" "$url"
  expected=$(curl -fsSL --retry 3 "$sum_url" | awk '{print $1}')
  [[ $expected =~ ^[0-9a-f]{64}$ ]] || { echo "error: no checksum at $sum_url" >&2; return 1; }
  echo "$expected  $out" | sha256sum -c --quiet -
}

if [ "$("$bin_dir/helm" version --template '{{.Version}}' 2>/dev/null || true)" != "$helm_version" ]; then
  archive="helm-$helm_version-linux-$arch.tar.gz"
  fetch_verified "https://get.helm.sh/$archive" "https://get.helm.sh/$archive.sha256sum" "$work/$archive"
  tar -xzf "$work/$archive" -C "$work" "linux-$arch/helm"
  install -m 0755 "$work/linux-$arch/helm" "$bin_dir/helm"
fi

if [ "$("$bin_dir/kubectl" version --client -o json 2>/dev/null | jq -r .clientVersion.gitVersion || true)" != "$kubectl_version" ]; then
  base="https://dl.k8s.io/release/$kubectl_version/bin/linux/$arch/kubectl"
  fetch_verified "$base" "$base.sha256" "$work/kubectl"
  install -m 0755 "$work/kubectl" "$bin_dir/kubectl"
fi

"$bin_dir/helm" version --short
"$bin_dir/kubectl" version --client
if [ -n "${GITHUB_PATH:-}" ]; then echo "$bin_dir" >>"$GITHUB_PATH"; fi
