{{/* Settings of audit-log-analysis derived from structured values (docs/configuration.md). */}}
{{- define "audit-log-analysis.computedEnv" -}}
APP_PORT: {{ .Values.containerPorts.http | quote }}
PROMETHEUS_PORT: {{ .Values.containerPorts.metrics | quote }}
RABBITMQ_HOST: {{ include "auditflow.serverHost" (dict "ctx" . "name" "rabbitmq" "host" .Values.rabbitmq.host) | quote }}
RABBITMQ_PORT: {{ include "auditflow.serverPort" (dict "ctx" . "name" "rabbitmq" "port" .Values.rabbitmq.port) | quote }}
RABBITMQ_USER: {{ .Values.rabbitmq.user | quote }}
RABBITMQ_VHOST: {{ .Values.rabbitmq.vhost | quote }}
RABBITMQ_QUEUE_TYPE: {{ .Values.rabbitmq.queueType | quote }}
RABBITMQ_QUEUE: {{ .Values.rabbitmq.queue | quote }}
RABBITMQ_ALERT_QUEUE: {{ .Values.rabbitmq.alertQueue | quote }}
RABBITMQ_PREFETCH: {{ .Values.rabbitmq.prefetch | quote }}
REDIS_HOST: {{ include "auditflow.serverHost" (dict "ctx" . "name" "redis" "host" .Values.redis.host) | quote }}
REDIS_PORT: {{ include "auditflow.serverPort" (dict "ctx" . "name" "redis" "port" .Values.redis.port) | quote }}
REDIS_DB: {{ .Values.redis.db | quote }}
REDIS_KEY_PREFIX: {{ .Values.redis.keyPrefix | quote }}
RULES_FILE: {{ printf "%s/rules.yaml" (.Values.rules.mountPath | trimSuffix "/") | quote }}
ENRICHMENT_ENABLED: {{ .Values.enrichment.enabled | quote }}
ENRICHMENT_CACHE_SIZE: {{ .Values.enrichment.cacheSize | quote }}
{{- if include "audit-log-analysis.hostsEnabled" . }}
HOSTS_FILE: {{ printf "%s/hosts.yaml" (.Values.hosts.mountPath | trimSuffix "/") | quote }}
{{- end }}
EXCEPTIONS_FILE: {{ printf "%s/exceptions.yaml" (.Values.exceptions.mountPath | trimSuffix "/") | quote }}
EXCEPTIONS_RELOAD_SECONDS: {{ .Values.exceptions.reloadSeconds | quote }}
{{- end -}}

{{/* Non-empty when the pod mounts a hosts file (the enrichment's owner/role map). */}}
{{- define "audit-log-analysis.hostsEnabled" -}}
{{- if and .Values.enrichment.enabled (or .Values.hosts.existingConfigMap .Values.hosts.content) -}}true{{- end -}}
{{- end -}}

{{- define "audit-log-analysis.hostsConfigMapName" -}}
{{- default (printf "%s-hosts" (include "auditflow.fullname" .)) .Values.hosts.existingConfigMap -}}
{{- end -}}

{{- define "audit-log-analysis.secretEnv" -}}
{{ include "auditflow.secretEnvVar" (dict "name" "RABBITMQ_PASS" "secret" (include "auditflow.serverSecret" (dict "ctx" . "name" "rabbitmq" "secret" .Values.rabbitmq.existingSecret)) "key" .Values.rabbitmq.passwordKey) }}
{{- if .Values.redis.auth }}
{{ include "auditflow.secretEnvVar" (dict "name" "REDIS_PASSWORD" "secret" (include "auditflow.serverSecret" (dict "ctx" . "name" "redis" "secret" .Values.redis.existingSecret)) "key" .Values.redis.passwordKey) }}
{{- end }}
{{- end -}}

{{- define "audit-log-analysis.externalSecrets" -}}
{{- toYaml (compact (list .Values.rabbitmq.existingSecret .Values.redis.existingSecret)) -}}
{{- end -}}

{{- define "audit-log-analysis.rulesContent" -}}
{{- if .Values.rules.content -}}
{{- .Values.rules.content -}}
{{- else -}}
{{- .Files.Get "files/rules.yaml" -}}
{{- end -}}
{{- end -}}

{{/* The rules are part of the config checksum, so editing them rolls the pods. */}}
{{- define "audit-log-analysis.configChecksum" -}}
{{- include "audit-log-analysis.computedEnv" . -}}
{{- if .Values.rules.existingConfigMap -}}
{{- $cm := lookup "v1" "ConfigMap" .Release.Namespace .Values.rules.existingConfigMap -}}
{{- toJson (($cm | default dict).data | default dict) -}}
{{- else -}}
{{- include "audit-log-analysis.rulesContent" . -}}
{{- end -}}
{{- if .Values.hosts.existingConfigMap -}}
{{- $hosts := lookup "v1" "ConfigMap" .Release.Namespace .Values.hosts.existingConfigMap -}}
{{- toJson (($hosts | default dict).data | default dict) -}}
{{- else -}}
{{- .Values.hosts.content -}}
{{- end -}}
{{- end -}}

{{- define "audit-log-analysis.rulesConfigMapName" -}}
{{- default (printf "%s-rules" (include "auditflow.fullname" .)) .Values.rules.existingConfigMap -}}
{{- end -}}

{{- define "audit-log-analysis.exceptionsConfigMapName" -}}
{{- default (printf "%s-exceptions" (include "auditflow.fullname" .)) .Values.exceptions.existingConfigMap -}}
{{- end -}}

{{- define "audit-log-analysis.volumes" -}}
- name: rules
  configMap:
    name: {{ include "audit-log-analysis.rulesConfigMapName" . }}
    items:
      - key: rules.yaml
        path: rules.yaml
{{- if include "audit-log-analysis.hostsEnabled" . }}
- name: hosts
  configMap:
    name: {{ include "audit-log-analysis.hostsConfigMapName" . }}
    items:
      - key: hosts.yaml
        path: hosts.yaml
{{- end }}
{{/* A directory mount, never subPath: only then does kubelet swap in a changed file. */}}
- name: exceptions
  configMap:
    name: {{ include "audit-log-analysis.exceptionsConfigMapName" . }}
    items:
      - key: exceptions.yaml
        path: exceptions.yaml
{{- end -}}

{{- define "audit-log-analysis.volumeMounts" -}}
- name: rules
  mountPath: {{ .Values.rules.mountPath }}
  readOnly: true
{{- if include "audit-log-analysis.hostsEnabled" . }}
- name: hosts
  mountPath: {{ .Values.hosts.mountPath }}
  readOnly: true
{{- end }}
- name: exceptions
  mountPath: {{ .Values.exceptions.mountPath }}
  readOnly: true
{{- end -}}
