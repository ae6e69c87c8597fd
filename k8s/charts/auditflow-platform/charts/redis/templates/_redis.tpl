{{- define "redis.secretName" -}}
{{- default (include "auditflow.fullname" .) .Values.auth.existingSecret -}}
{{- end -}}

{{- define "redis.validate" -}}
{{- if and .Values.external.enabled (not .Values.external.host) -}}
{{- fail "redis: external.enabled needs external.host" -}}
{{- end -}}
{{- if and .Values.external.enabled .Values.auth.enabled (not .Values.auth.existingSecret) -}}
{{- fail "redis: external.enabled with auth needs auth.existingSecret (a generated password cannot match an existing server)" -}}
{{- end -}}
{{- end -}}
