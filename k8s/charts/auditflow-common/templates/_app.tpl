{{/*
Helpers of the application charts (a Node.js service with an http and a metrics port). The
per-service parts live in each chart's _service.tpl as "<chart>.*" templates: computedEnv,
secretEnv, externalSecrets, configChecksum, and optionally volumes/volumeMounts.
*/}}

{{/*
Container env: the settings this chart derives from structured values, then the plain
`env` map (which wins on a name clash), then Secret-backed variables. Names are sorted so
a re-render never reorders them and needlessly rolls the pods.
*/}}
{{- define "auditflow.appEnv" -}}
{{- $computed := include (printf "%s.computedEnv" .Chart.Name) . | fromYaml -}}
{{- $shutdownMs := mul (sub (int .Values.terminationGracePeriodSeconds) 5) 1000 -}}
{{- $base := dict "LOG_LEVEL" "info" "ENVIRONMENT" (default "development" (.Values.global).environment) "SHUTDOWN_TIMEOUT_MS" (toString $shutdownMs) -}}
{{- $plain := merge (deepCopy (.Values.env | default dict)) $computed $base -}}
{{- $secretEnv := include (printf "%s.secretEnv" .Chart.Name) . | fromYamlArray -}}
{{- $out := list -}}
{{- range $k := keys $plain | sortAlpha -}}
{{- $out = append $out (dict "name" $k "value" (toString (index $plain $k))) -}}
{{- end -}}
{{- range $e := $secretEnv -}}
{{- if not (hasKey $plain $e.name) -}}
{{- $out = append $out $e -}}
{{- end -}}
{{- end -}}
{{- range $e := .Values.extraEnv -}}
{{- $out = append $out $e -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{- define "auditflow.secretEnvVar" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end -}}
