{{- define "rabbitmq.validate" -}}
{{- if and .Values.external.enabled (not .Values.external.host) -}}
{{- fail "rabbitmq: external.enabled needs external.host" -}}
{{- end -}}
{{- end -}}

{{/*
Users with the least privilege each flow needs. Publishing goes through the default
exchange, so write access is to `amq.default` only; read is just the queue a service
consumes. Configure covers exactly the queues a service declares at start and after each
reconnect: the broker adapter (src/common/src/broker/amqp-broker.ts, declareQueues)
declares every queue together with its dead-letter queue, and a queue that exists already
(these definitions create them all) is still re-declared with its type, which the broker
checks against configure rights like a creation.
  generator     audit_events(.dlq)
  analysis      audit_events(.dlq), audit_alerts(.dlq)
  ingest        audit_events(.dlq)
  notification  audit_alerts(.dlq)
*/}}
{{- define "rabbitmq.permissions" -}}
{{- $d := .Values.definitions -}}
{{- $ev := regexQuoteMeta $d.eventsQueue -}}
{{- $al := regexQuoteMeta $d.alertsQueue -}}
{{- $dlq := printf "(%s)?" (regexQuoteMeta $d.deadLetterSuffix) -}}
- user: {{ .Values.users.generator.name }}
  configure: {{ printf "^%s%s$" $ev $dlq | quote }}
  write: "^amq\\.default$"
  read: "^$"
- user: {{ .Values.users.analysis.name }}
  configure: {{ printf "^(%s|%s)%s$" $ev $al $dlq | quote }}
  write: "^amq\\.default$"
  read: {{ printf "^%s$" $ev | quote }}
- user: {{ .Values.users.ingest.name }}
  configure: {{ printf "^%s%s$" $ev $dlq | quote }}
  write: "^amq\\.default$"
  read: "^$"
- user: {{ .Values.users.notification.name }}
  configure: {{ printf "^%s%s$" $al $dlq | quote }}
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
