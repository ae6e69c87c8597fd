{{/* Settings of audit-ingest derived from structured values (docs/configuration.md). */}}
{{- define "audit-ingest.computedEnv" -}}
APP_PORT: {{ .Values.containerPorts.http | quote }}
PROMETHEUS_PORT: {{ .Values.containerPorts.metrics | quote }}
SYSLOG_PORT: {{ .Values.containerPorts.syslog | quote }}
RABBITMQ_HOST: {{ include "auditflow.serverHost" (dict "ctx" . "name" "rabbitmq" "host" .Values.rabbitmq.host) | quote }}
RABBITMQ_PORT: {{ include "auditflow.serverPort" (dict "ctx" . "name" "rabbitmq" "port" .Values.rabbitmq.port) | quote }}
RABBITMQ_USER: {{ .Values.rabbitmq.user | quote }}
RABBITMQ_VHOST: {{ .Values.rabbitmq.vhost | quote }}
RABBITMQ_QUEUE_TYPE: {{ .Values.rabbitmq.queueType | quote }}
RABBITMQ_QUEUE: {{ .Values.rabbitmq.queue | quote }}
INGEST_CLUSTER_NAME: {{ .Values.clusterName | quote }}
INGEST_TLS_CERT_FILE: /etc/audit-ingest/tls/tls.crt
INGEST_TLS_KEY_FILE: /etc/audit-ingest/tls/tls.key
{{- if .Values.tls.clientCertificates }}
INGEST_TLS_CLIENT_CA_FILE: /etc/audit-ingest/tls/ca.crt
{{- end }}
{{- if .Values.tls.syslog }}
SYSLOG_TLS_CERT_FILE: /etc/audit-ingest/tls/tls.crt
SYSLOG_TLS_KEY_FILE: /etc/audit-ingest/tls/tls.key
{{- end }}
INGEST_TOKENS_FILE: {{ printf "/etc/audit-ingest/tokens/%s" .Values.tokens.key | quote }}
{{- end -}}

{{- define "audit-ingest.secretEnv" -}}
{{ include "auditflow.secretEnvVar" (dict "name" "RABBITMQ_PASS" "secret" (include "auditflow.serverSecret" (dict "ctx" . "name" "rabbitmq" "secret" .Values.rabbitmq.existingSecret)) "key" .Values.rabbitmq.passwordKey) }}
{{- end -}}

{{- define "audit-ingest.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "auditflow.fullname" .)) .Values.tls.existingSecret -}}
{{- end -}}

{{- define "audit-ingest.tokensSecretName" -}}
{{- default (printf "%s-tokens" (include "auditflow.fullname" .)) .Values.tokens.existingSecret -}}
{{- end -}}

{{- define "audit-ingest.externalSecrets" -}}
{{- toYaml (compact (list .Values.rabbitmq.existingSecret .Values.tls.existingSecret .Values.tokens.existingSecret)) -}}
{{- end -}}

{{- define "audit-ingest.configChecksum" -}}
{{- include "audit-ingest.computedEnv" . -}}
{{- end -}}

{{- define "audit-ingest.volumes" -}}
- name: tls
  secret:
    secretName: {{ include "audit-ingest.tlsSecretName" . }}
- name: tokens
  secret:
    secretName: {{ include "audit-ingest.tokensSecretName" . }}
{{- end -}}

{{- define "audit-ingest.volumeMounts" -}}
- name: tls
  mountPath: /etc/audit-ingest/tls
  readOnly: true
- name: tokens
  mountPath: /etc/audit-ingest/tokens
  readOnly: true
{{- end -}}
