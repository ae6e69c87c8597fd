{{/* Settings of event-audit-dashboard derived from structured values (docs/configuration.md). */}}
{{- define "event-audit-dashboard.computedEnv" -}}
APP_PORT: {{ .Values.containerPorts.http | quote }}
NOTIFICATION_SERVICE_HOST: {{ default (include "auditflow.peerFullname" (dict "ctx" . "name" "notification-service")) .Values.notificationApi.host | quote }}
NOTIFICATION_SERVICE_PORT: {{ .Values.notificationApi.port | quote }}
{{- with .Values.trustedProxies }}
TRUSTED_PROXIES: {{ join "," . | quote }}
{{- end }}
{{- end -}}

{{- define "event-audit-dashboard.tokenSecretName" -}}
{{- default (printf "%s-api-tokens" (include "auditflow.peerFullname" (dict "ctx" . "name" "notification-service"))) .Values.notificationApi.existingSecret -}}
{{- end -}}

{{- define "event-audit-dashboard.secretEnv" -}}
{{ include "auditflow.secretEnvVar" (dict "name" "NOTIFICATION_API_TOKEN" "secret" (include "event-audit-dashboard.tokenSecretName" .) "key" .Values.notificationApi.tokenKey) }}
{{- end -}}

{{- define "event-audit-dashboard.externalSecrets" -}}
{{- toYaml (compact (list .Values.notificationApi.existingSecret)) -}}
{{- end -}}

{{- define "event-audit-dashboard.configChecksum" -}}
{{- include "event-audit-dashboard.computedEnv" . -}}
{{- end -}}

{{- define "event-audit-dashboard.volumes" -}}
{{- end -}}

{{- define "event-audit-dashboard.volumeMounts" -}}
{{- end -}}
