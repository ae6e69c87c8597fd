# Builds the AuditFlow images from the one Dockerfile: `docker buildx bake` (all) or
# `docker buildx bake audit-log-analysis`. CI builds the same targets through its matrix
# (.github/workflows/images.yml) with SERVICE and target set to the service name.
variable "REGISTRY" {
  default = "docker.io"
}
variable "IMAGE_ORG" {
  default = "auditflow"
}
variable "TAG" {
  default = "local"
}

group "default" {
  targets = ["audit-event-generator", "audit-log-analysis", "notification-service", "event-audit-dashboard", "audit-ingest"]
}

target "service" {
  name       = svc
  matrix     = { svc = ["audit-event-generator", "audit-log-analysis", "notification-service", "event-audit-dashboard", "audit-ingest"] }
  context    = "."
  dockerfile = "Dockerfile"
  target     = svc
  args       = { SERVICE = svc }
  platforms  = ["linux/amd64", "linux/arm64"]
  tags       = ["${REGISTRY}/${IMAGE_ORG}/${svc}:${TAG}"]
}
