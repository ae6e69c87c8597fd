#!/usr/bin/env bash
# Creates the local K3d cluster the seed names for development on a laptop: K3s in Docker,
# shaped like the Pi cluster (one server, two agents, the dashboard NodePorts published on
# localhost, K3s' own Traefik and local-path storage), then the four namespaces with the
# restricted Pod Security Standard. Afterwards install exactly as on the Pis (README.md):
#   helm upgrade --install afp k8s/charts/auditflow-platform -n dev -f .../values-dev.yaml ...
#
#   CLUSTER       cluster name (default auditflow)
#   K3S_IMAGE     K3s image; the default matches k3s_version in infra/ansible
#   AGENTS        number of agent nodes (default 2)
#   DRY_RUN=1     print the commands instead of running them
set -euo pipefail
cd "$(dirname "$0")/.."

cluster=${CLUSTER:-auditflow}
agents=${AGENTS:-2}
version=$(sed -n 's/^k3s_version: //p' infra/ansible/inventory/group_vars/k3s_cluster/main.yml)
image=${K3S_IMAGE:-docker.io/rancher/k3s:${version/+/-}}

name_re='^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
[[ $cluster =~ $name_re ]] || { echo "error: invalid cluster name '$cluster'" >&2; exit 1; }
[[ $agents =~ ^[0-9]+$ ]] || { echo "error: AGENTS must be a number" >&2; exit 1; }

run() {
  if [ "${DRY_RUN:-}" = 1 ]; then
    printf '%q ' "$@"
    printf '\n'
  else
    "$@"
  fi
}

if [ "${DRY_RUN:-}" != 1 ]; then
  for tool in k3d kubectl; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
  done
fi

# The environments' dashboard NodePorts (dev 30090, staging 30091, preprod 30092, prod 30080)
# are published on localhost through the k3d load balancer.
ports=()
for port in 30080 30090 30091 30092; do
  ports+=(--port "$port:$port@loadbalancer")
done

run k3d cluster create "$cluster" \
  --image "$image" \
  --servers 1 --agents "$agents" \
  "${ports[@]}" \
  --wait --timeout 300s

for ns in dev staging preprod prod; do
  # Idempotent: an existing namespace is kept.
  run kubectl get namespace "$ns" >/dev/null 2>&1 || run kubectl create namespace "$ns"
  run kubectl label namespace "$ns" --overwrite pod-security.kubernetes.io/enforce=restricted
done
