{{/*
Shared helpers of the AuditFlow charts.

They live once, in the auditflow-common library chart, which every AuditFlow chart declares
as a dependency (docs/kubernetes.md, "Adding a subchart").
*/}}

{{- define "auditflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of a release-scoped object: <release>-<name>, without repeating the name. */}}
{{- define "auditflow.peerFullname" -}}
{{- $rel := .ctx.Release.Name -}}
{{- if contains .name $rel -}}
{{- $rel | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" $rel .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "auditflow.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- include "auditflow.peerFullname" (dict "ctx" . "name" (include "auditflow.name" .)) -}}
{{- end -}}
{{- end -}}

{{- define "auditflow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels never contain anything that changes between releases. */}}
{{- define "auditflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "auditflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "auditflow.labels" -}}
helm.sh/chart: {{ include "auditflow.chart" . }}
{{ include "auditflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: auditflow
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Workload selector: the component label keeps hook pods (migrations, tests) out of Services and PDBs. */}}
{{- define "auditflow.workloadSelectorLabels" -}}
{{ include "auditflow.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "auditflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "auditflow.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Image reference: registry/repository:tag[@digest]. The tag defaults to the chart's
appVersion; a mutable `latest` tag is refused because nodes would keep stale copies (D17).
AuditFlow's own images (`own`) default to `v<appVersion>`, the tag the release workflow
pushes for a version; third-party images use their upstream tag as appVersion.
Usage: {{ include "auditflow.image" (dict "ctx" . "own" true "image" .Values.image "defaultTag" .Chart.AppVersion) }}
*/}}
{{- define "auditflow.image" -}}
{{- $img := .image -}}
{{- $global := ((.ctx).Values).global | default dict -}}
{{- $defaultTag := toString .defaultTag -}}
{{- if and .own $defaultTag -}}{{- $defaultTag = printf "v%s" (trimPrefix "v" $defaultTag) -}}{{- end -}}
{{- $tag := toString (default $defaultTag $img.tag) -}}
{{- if or (eq $tag "latest") (eq $tag "") -}}
{{- fail (printf "image %s: a pinned tag is required (got %q)" $img.repository $tag) -}}
{{- end -}}
{{- $repo := $img.repository -}}
{{- if and .own $global.imageRepositoryPrefix -}}{{- $repo = printf "%s/%s" $global.imageRepositoryPrefix .ctx.Chart.Name -}}{{- end -}}
{{- $registry := $global.imageRegistry | default $img.registry -}}
{{- if $registry -}}{{- $repo = printf "%s/%s" $registry $repo -}}{{- end -}}
{{- if $img.digest -}}
{{- printf "%s:%s@%s" $repo $tag $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{/*
A server outside the release, from global.externalDatabase / externalRabbitmq / externalRedis
(used when that data subchart is disabled). Returns the dict as JSON; empty when unset.
*/}}
{{- define "auditflow.externalServer" -}}
{{- $key := get (dict "postgresql" "externalDatabase" "rabbitmq" "externalRabbitmq" "redis" "externalRedis") .name -}}
{{- $ext := index (.ctx.Values.global | default dict) $key | default dict -}}
{{- if $ext.host -}}{{- toJson $ext -}}{{- else -}}{{- toJson dict -}}{{- end -}}
{{- end -}}

{{/* Host of a server: the chart's explicit value, else the external server, else the release's Service. */}}
{{- define "auditflow.serverHost" -}}
{{- $ext := include "auditflow.externalServer" . | fromJson -}}
{{- .host | default $ext.host | default (include "auditflow.peerFullname" (dict "ctx" .ctx "name" .name)) -}}
{{- end -}}

{{- define "auditflow.serverPort" -}}
{{- $ext := include "auditflow.externalServer" . | fromJson -}}
{{- if and $ext.host $ext.port -}}{{- int $ext.port -}}{{- else -}}{{- .port -}}{{- end -}}
{{- end -}}

{{/* Secret with a server's passwords: the chart's existingSecret, else the external server's, else the release's. */}}
{{- define "auditflow.serverSecret" -}}
{{- $ext := include "auditflow.externalServer" . | fromJson -}}
{{- .secret | default $ext.existingSecret | default (include "auditflow.peerFullname" (dict "ctx" .ctx "name" .name)) -}}
{{- end -}}

{{/* Egress rule to a server: its pods in the release, or its port anywhere when it is external. */}}
{{- define "auditflow.serverEgress" -}}
{{- $ext := include "auditflow.externalServer" . | fromJson -}}
{{- if not $ext.host }}
- to:
    {{- include "auditflow.peerSelector" (dict "ctx" .ctx "name" .name) | nindent 4 }}
  ports:
    - protocol: TCP
      port: {{ .port }}
{{- else }}
- ports:
    - protocol: TCP
      port: {{ include "auditflow.serverPort" . }}
{{- end }}
{{- end -}}

{{/*
Value of one key of a chart-managed Secret: the explicit value if given, else the value
already stored in the cluster (so upgrades keep it), else a new random one.
*/}}
{{- define "auditflow.secretValue" -}}
{{- if .value -}}
{{- .value -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .secret -}}
{{- if and $existing (hasKey ($existing.data | default dict) .key) -}}
{{- index $existing.data .key | b64dec -}}
{{- else -}}
{{- randAlphaNum (int (default 32 .length)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Checksum over Secrets the pod reads but that this chart does not generate. Generated
Secrets keep their value across upgrades, so only user-managed ones can change under a pod.
*/}}
{{- define "auditflow.externalSecretsChecksum" -}}
{{- $ctx := .ctx -}}
{{- $acc := list -}}
{{- range $name := .names -}}
{{- if $name -}}
{{- $s := lookup "v1" "Secret" $ctx.Release.Namespace $name -}}
{{- $acc = append $acc (printf "%s=%s" $name (toJson (($s | default dict).data | default dict))) -}}
{{- end -}}
{{- end -}}
{{- $acc | join ";" | sha256sum -}}
{{- end -}}

{{- define "auditflow.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext -}}
{{- end -}}

{{- define "auditflow.containerSecurityContext" -}}
{{- toYaml .Values.securityContext -}}
{{- end -}}

{{/* Spread replicas across Pis; only meaningful with more than one pod. */}}
{{- define "auditflow.topologySpread" -}}
{{- $multi := or (gt (int .Values.replicaCount) 1) (and (hasKey .Values "autoscaling") .Values.autoscaling.enabled) (and (hasKey .Values "keda") .Values.keda.enabled) -}}
{{- if and $multi .Values.topologySpread.enabled -}}
topologySpreadConstraints:
  - maxSkew: {{ .Values.topologySpread.maxSkew }}
    topologyKey: {{ .Values.topologySpread.topologyKey }}
    whenUnsatisfiable: {{ .Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "auditflow.workloadSelectorLabels" . | nindent 8 }}
{{- end }}
{{- end -}}

{{/* Egress to the cluster DNS, needed by every pod that resolves a Service name. */}}
{{- define "auditflow.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end -}}

{{/* A peer of the same release, selected by the chart name it was installed from. */}}
{{- define "auditflow.peerSelector" -}}
- podSelector:
    matchLabels:
      app.kubernetes.io/name: {{ .name }}
      app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- end -}}

{{- define "auditflow.metricsFrom" -}}
- namespaceSelector:
    {{- toYaml .Values.networkPolicy.metricsNamespaceSelector | nindent 4 }}
{{- end -}}

{{/*
The seed's scrape label on every pod that serves metrics, beside the prometheus.io/*
annotations: label selectors (kubernetes_sd relabelling, `kubectl get pods -l
prometheus_scrape=true`) can match it, which annotations cannot.
Usage: {{ include "auditflow.scrapeLabel" . }} in a pod template's labels.
*/}}
{{- define "auditflow.scrapeLabel" -}}
prometheus_scrape: "true"
{{- end -}}

{{- define "auditflow.prometheusAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: {{ .path | default "/metrics" | quote }}
{{- end -}}

{{/*
Labels of helm test pods. They deliberately differ from the workload's name label so the
workload's NetworkPolicy does not select (and confine) the pod that probes it.
*/}}
{{- define "auditflow.testLabels" -}}
helm.sh/chart: {{ include "auditflow.chart" . }}
app.kubernetes.io/name: {{ include "auditflow.name" . }}-test
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: auditflow
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: helm-test
auditflow.io/api-client: "true"
{{- end -}}
