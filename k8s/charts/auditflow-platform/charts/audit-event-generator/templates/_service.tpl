{{/* Settings of audit-event-generator derived from structured values (docs/configuration.md). */}}
{{- define "audit-event-generator.computedEnv" -}}
APP_PORT: {{ .Values.containerPorts.http | quote }}
PROMETHEUS_PORT: {{ .Values.containerPorts.metrics | quote }}
RABBITMQ_HOST: {{ include "auditflow.serverHost" (dict "ctx" . "name" "rabbitmq" "host" .Values.rabbitmq.host) | quote }}
RABBITMQ_PORT: {{ include "auditflow.serverPort" (dict "ctx" . "name" "rabbitmq" "port" .Values.rabbitmq.port) | quote }}
RABBITMQ_USER: {{ .Values.rabbitmq.user | quote }}
RABBITMQ_VHOST: {{ .Values.rabbitmq.vhost | quote }}
RABBITMQ_QUEUE_TYPE: {{ .Values.rabbitmq.queueType | quote }}
RABBITMQ_QUEUE: {{ .Values.rabbitmq.queue | quote }}
{{- end -}}

{{- define "audit-event-generator.secretEnv" -}}
{{ include "auditflow.secretEnvVar" (dict "name" "RABBITMQ_PASS" "secret" (include "auditflow.serverSecret" (dict "ctx" . "name" "rabbitmq" "secret" .Values.rabbitmq.existingSecret)) "key" .Values.rabbitmq.passwordKey) }}
{{- end -}}

{{- define "audit-event-generator.externalSecrets" -}}
{{- toYaml (compact (list .Values.rabbitmq.existingSecret)) -}}
{{- end -}}

{{- define "audit-event-generator.configChecksum" -}}
{{- include "audit-event-generator.computedEnv" . -}}
{{- end -}}

{{- define "audit-event-generator.volumes" -}}
{{- end -}}

{{- define "audit-event-generator.volumeMounts" -}}
{{- end -}}
