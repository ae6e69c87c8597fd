#!/usr/bin/env bash
# Creates the Secrets that k8s/base references but never commits, in one namespace.
#
# The values come from the chart's own Secret templates (random passwords, and for
# RabbitMQ the definitions file with per-service users, rights and policies), so names and
# keys always match the manifests. An existing Secret is kept: re-running never rotates a
# password that a running database or broker already stores.
#
#   k8s/base/create-secrets.sh prod
set -euo pipefail

namespace=${1:?usage: create-secrets.sh <namespace>}
repo=$(cd "$(dirname "$0")/../.." && pwd)
helm=${HELM:-helm}
kubectl=${KUBECTL:-kubectl}
chart="$repo/k8s/charts/auditflow-platform"

templates=(
  charts/postgresql/templates/secret.yaml
  charts/rabbitmq/templates/secret.yaml
  charts/redis/templates/secret.yaml
  charts/notification-service/templates/secret-api-tokens.yaml
  charts/audit-ingest/templates/secret-tls.yaml
  charts/audit-ingest/templates/secret-tokens.yaml
)

for template in "${templates[@]}"; do
  manifest=$("$helm" template afp "$chart" --namespace "$namespace" --show-only "$template" |
    sed 's/app.kubernetes.io\/managed-by: Helm/app.kubernetes.io\/managed-by: create-secrets.sh/')
  name=$(printf '%s\n' "$manifest" | sed -n 's/^  name: //p' | head -n 1)
  if "$kubectl" --namespace "$namespace" get secret "$name" >/dev/null 2>&1; then
    echo "secret/$name already exists; kept"
    continue
  fi
  printf '%s\n' "$manifest" | "$kubectl" --namespace "$namespace" create -f -
done
