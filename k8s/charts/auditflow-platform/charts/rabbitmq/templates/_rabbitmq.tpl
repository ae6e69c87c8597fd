{{- define "rabbitmq.validate" -}}
{{- if and .Values.external.enabled (not .Values.external.host) -}}
{{- fail "rabbitmq: external.enabled needs external.host" -}}
{{- end -}}
{{- end -}}

{{/*
Users with the least privilege each flow needs. Publishing goes through the default
exchange, so write access is to `amq.default` only; configure covers just the queues a
service declares, read just the queue it consumes.
*/}}
{{- define "rabbitmq.permissions" -}}
{{- $d := .Values.definitions -}}
{{- $ev := regexQuoteMeta $d.eventsQueue -}}
{{- $al := regexQuoteMeta $d.alertsQueue -}}
{{- $sfx := regexQuoteMeta $d.deadLetterSuffix -}}
- user: {{ .Values.users.generator.name }}
  configure: {{ printf "^%s$" $ev | quote }}
  write: "^amq\\.default$"
  read: "^$"
- user: {{ .Values.users.analysis.name }}
  configure: {{ printf "^(%s|%s%s|%s)$" $ev $ev $sfx $al | quote }}
  write: "^amq\\.default$"
  read: {{ printf "^%s$" $ev | quote }}
- user: {{ .Values.users.ingest.name }}
  configure: {{ printf "^(%s|%s%s)$" $ev $ev $sfx | quote }}
  write: "^amq\\.default$"
  read: "^$"
- user: {{ .Values.users.notification.name }}
  configure: {{ printf "^(%s|%s%s)$" $al $al $sfx | quote }}
  write: "^amq\\.default$"
  read: {{ printf "^%s$" $al | quote }}
{{- end -}}

{{/* Everything in the definitions except passwords, so a topology change rolls the broker. */}}
{{- define "rabbitmq.topology" -}}
{{- $d := .Values.definitions -}}
queues:
{{- range $q := list $d.eventsQueue $d.alertsQueue (printf "%s%s" $d.eventsQueue $d.deadLetterSuffix) (printf "%s%s" $d.alertsQueue $d.deadLetterSuffix) }}
  - name: {{ $q | quote }}
    vhost: {{ $d.vhost | quote }}
    durable: true
    auto_delete: false
    arguments:
      x-queue-type: {{ $d.queueType | quote }}
{{- end }}
policies:
{{- range $q := list $d.eventsQueue $d.alertsQueue }}
  - vhost: {{ $d.vhost | quote }}
    name: {{ printf "auditflow-%s" $q | quote }}
    pattern: {{ printf "^%s$" (regexQuoteMeta $q) | quote }}
    apply-to: queues
    priority: 10
    definition:
      {{- if eq $d.queueType "quorum" }}
      delivery-limit: {{ int $d.deliveryLimit }}
      dead-letter-strategy: at-least-once
      {{- end }}
      dead-letter-exchange: ""
      dead-letter-routing-key: {{ printf "%s%s" $q $d.deadLetterSuffix | quote }}
      max-length: {{ int $d.maxLength }}
      overflow: reject-publish
{{- end }}
  - vhost: {{ $d.vhost | quote }}
    name: auditflow-dead-letters
    pattern: {{ printf "^(%s|%s)%s$" (regexQuoteMeta $d.eventsQueue) (regexQuoteMeta $d.alertsQueue) (regexQuoteMeta $d.deadLetterSuffix) | quote }}
    apply-to: queues
    priority: 10
    definition:
      max-length: {{ int $d.deadLetterMaxLength }}
      overflow: drop-head
permissions:
{{- include "rabbitmq.permissions" . | nindent 2 }}
{{- end -}}

{{- define "rabbitmq.definitions" -}}
{{- $ctx := .ctx -}}
{{- $topology := include "rabbitmq.topology" $ctx | fromYaml -}}
{{- $d := $ctx.Values.definitions -}}
{{- $users := list (dict "name" $ctx.Values.auth.adminUsername "password" .adminPassword "tags" (list "administrator")) -}}
{{- $perms := list (dict "user" $ctx.Values.auth.adminUsername "vhost" $d.vhost "configure" ".*" "write" ".*" "read" ".*") -}}
{{- range $role := list "generator" "analysis" "notification" "ingest" -}}
{{- $u := index $ctx.Values.users $role -}}
{{- $users = append $users (dict "name" $u.name "password" (index $.passwords $role) "tags" list) -}}
{{- end -}}
{{- range $p := $topology.permissions -}}
{{- $perms = append $perms (dict "user" $p.user "vhost" $d.vhost "configure" $p.configure "write" $p.write "read" $p.read) -}}
{{- end -}}
{{- toPrettyJson (dict "users" $users "vhosts" (list (dict "name" $d.vhost)) "permissions" $perms "queues" $topology.queues "policies" $topology.policies) -}}
{{- end -}}
