{{/*
Helpers of the lab network templates (docs/network.md). Every template in this directory renders
nothing unless its own network.* toggle is on.
*/}}

{{/* First label of this environment's host names: network.hostPrefix or global.environment. */}}
{{- define "network.hostPrefix" -}}
{{- default .Values.global.environment .Values.network.hostPrefix -}}
{{- end -}}

{{/* The dashboard's lab host name, e.g. dev.lab.engineconf.com. */}}
{{- define "network.dashboardHost" -}}
{{- printf "%s.%s" (include "network.hostPrefix" .) .Values.network.domain -}}
{{- end -}}

{{/* The notification API's lab host name, e.g. api.dev.lab.engineconf.com. */}}
{{- define "network.apiHost" -}}
{{- printf "api.%s.%s" (include "network.hostPrefix" .) .Values.network.domain -}}
{{- end -}}

{{/* audit-ingest's lab host name, e.g. ingest.dev.lab.engineconf.com. */}}
{{- define "network.ingestHost" -}}
{{- printf "ingest.%s.%s" (include "network.hostPrefix" .) .Values.network.domain -}}
{{- end -}}

{{/* <release>-<component>, the subcharts' fullname for a component of this release. */}}
{{- define "network.component" -}}
{{- include "auditflow.peerFullname" (dict "ctx" .ctx "name" .name) -}}
{{- end -}}

{{- define "network.labels" -}}
helm.sh/chart: {{ include "auditflow.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: auditflow
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: lab-network
{{- end -}}

{{/* The zone's records after the SOA: the NS, its address and network.dns.records. */}}
{{- define "network.zoneRecords" -}}
{{- $dns := .Values.network.dns -}}
@ IN NS {{ $dns.nameserver }}.{{ .Values.network.domain }}.
{{ $dns.nameserver }} IN A {{ $dns.nameserverAddress }}
{{- range $dns.records }}
{{ .name }} IN {{ .type }} {{ if eq .type "TXT" }}{{ .value | quote }}{{ else }}{{ .value }}{{ end }}
{{- end }}
{{- end -}}
