{{- define "postgresql.secretName" -}}
{{- default (include "auditflow.fullname" .) .Values.auth.existingSecret -}}
{{- end -}}

{{- define "postgresql.validate" -}}
{{- if and .Values.external.enabled (not .Values.external.host) -}}
{{- fail "postgresql: external.enabled needs external.host" -}}
{{- end -}}
{{- if and .Values.external.enabled (not .Values.auth.existingSecret) -}}
{{- fail "postgresql: external.enabled needs auth.existingSecret (a generated password cannot match an existing server)" -}}
{{- end -}}
{{- end -}}
