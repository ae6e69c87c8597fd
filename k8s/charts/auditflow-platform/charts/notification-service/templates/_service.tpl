{{/* Settings of notification-service derived from structured values (docs/configuration.md). */}}
{{- define "notification-service.computedEnv" -}}
API_HOST: "0.0.0.0"
API_PORT: {{ .Values.containerPorts.http | quote }}
SERVICE_NAME: {{ include "auditflow.name" . | quote }}
RABBITMQ_HOST: {{ include "auditflow.serverHost" (dict "ctx" . "name" "rabbitmq" "host" .Values.rabbitmq.host) | quote }}
RABBITMQ_PORT: {{ include "auditflow.serverPort" (dict "ctx" . "name" "rabbitmq" "port" .Values.rabbitmq.port) | quote }}
RABBITMQ_USER: {{ .Values.rabbitmq.user | quote }}
RABBITMQ_VHOST: {{ .Values.rabbitmq.vhost | quote }}
RABBITMQ_QUEUE_TYPE: {{ .Values.rabbitmq.queueType | quote }}
RABBITMQ_ALERT_QUEUE: {{ .Values.rabbitmq.alertQueue | quote }}
RABBITMQ_PREFETCH: {{ .Values.rabbitmq.prefetch | quote }}
PG_HOST: {{ include "auditflow.serverHost" (dict "ctx" . "name" "postgresql" "host" .Values.postgresql.host) | quote }}
PG_PORT: {{ include "auditflow.serverPort" (dict "ctx" . "name" "postgresql" "port" .Values.postgresql.port) | quote }}
PG_DB: {{ .Values.postgresql.database | quote }}
PG_USER: {{ .Values.postgresql.user | quote }}
PG_POOL_MAX: {{ .Values.postgresql.poolMax | quote }}
{{- if include "notification-service.outputsEnabled" . }}
OUTPUTS_FILE: {{ printf "%s/outputs.yaml" (.Values.outputs.mountPath | trimSuffix "/") | quote }}
{{- end }}
{{- end -}}

{{- define "notification-service.outputsEnabled" -}}
{{- if or .Values.outputs.content .Values.outputs.existingConfigMap }}true{{ end -}}
{{- end -}}

{{- define "notification-service.outputsConfigMapName" -}}
{{- default (printf "%s-outputs" (include "auditflow.fullname" .)) .Values.outputs.existingConfigMap -}}
{{- end -}}

{{- define "notification-service.apiTokensSecretName" -}}
{{- default (printf "%s-api-tokens" (include "auditflow.fullname" .)) .Values.apiTokens.existingSecret -}}
{{- end -}}

{{- define "notification-service.secretEnv" -}}
{{ include "auditflow.secretEnvVar" (dict "name" "RABBITMQ_PASS" "secret" (include "auditflow.serverSecret" (dict "ctx" . "name" "rabbitmq" "secret" .Values.rabbitmq.existingSecret)) "key" .Values.rabbitmq.passwordKey) }}
{{ include "auditflow.secretEnvVar" (dict "name" "PG_PASSWORD" "secret" (include "auditflow.serverSecret" (dict "ctx" . "name" "postgresql" "secret" .Values.postgresql.existingSecret)) "key" .Values.postgresql.passwordKey) }}
{{ include "auditflow.secretEnvVar" (dict "name" "API_TOKENS" "secret" (include "notification-service.apiTokensSecretName" .) "key" .Values.apiTokens.key) }}
{{- end -}}

{{- define "notification-service.externalSecrets" -}}
{{- toYaml (compact (list .Values.rabbitmq.existingSecret .Values.postgresql.existingSecret .Values.apiTokens.existingSecret .Values.outputs.existingSecret .Values.response.crowdsecSecret)) -}}
{{- end -}}

{{/* The outputs file is part of the config checksum, so editing it rolls the pods. */}}
{{- define "notification-service.configChecksum" -}}
{{- include "notification-service.computedEnv" . -}}
{{- if .Values.outputs.existingConfigMap -}}
{{- $cm := lookup "v1" "ConfigMap" .Release.Namespace .Values.outputs.existingConfigMap -}}
{{- toJson (($cm | default dict).data | default dict) -}}
{{- else -}}
{{- .Values.outputs.content -}}
{{- end -}}
{{- include "notification-service.responseAllowlist" . -}}
{{- end -}}

{{/* response.allowlist as the allowlist_file of crowdsec outputs: one address or range a line. */}}
{{- define "notification-service.responseAllowlist" -}}
{{- range .Values.response.allowlist }}
{{ . }}
{{- end }}
{{- end -}}

{{- define "notification-service.volumes" -}}
{{- if include "notification-service.outputsEnabled" . }}
- name: outputs
  configMap:
    name: {{ include "notification-service.outputsConfigMapName" . }}
    items:
      - key: outputs.yaml
        path: outputs.yaml
{{- end }}
{{- with .Values.outputs.existingSecret }}
- name: output-secrets
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- if .Values.response.allowlist }}
- name: response-allowlist
  configMap:
    name: {{ printf "%s-response-allowlist" (include "auditflow.fullname" .) }}
{{- end }}
{{- with .Values.response.crowdsecSecret }}
- name: crowdsec-credentials
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "notification-service.volumeMounts" -}}
{{- if include "notification-service.outputsEnabled" . }}
- name: outputs
  mountPath: {{ .Values.outputs.mountPath }}
  readOnly: true
{{- end }}
{{- if .Values.outputs.existingSecret }}
- name: output-secrets
  mountPath: {{ .Values.outputs.secretsMountPath }}
  readOnly: true
{{- end }}
{{- if .Values.response.allowlist }}
- name: response-allowlist
  mountPath: {{ .Values.response.mountPath }}
  readOnly: true
{{- end }}
{{- if .Values.response.crowdsecSecret }}
- name: crowdsec-credentials
  mountPath: {{ .Values.response.secretsMountPath }}
  readOnly: true
{{- end }}
{{- end -}}
