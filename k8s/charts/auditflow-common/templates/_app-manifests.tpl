{{/*
The manifests every application chart renders, one named template each. A chart's
templates/<kind>.yaml is a single include of the matching template below.
*/}}

{{- define "auditflow.app.deployment" -}}
{{- $name := .Chart.Name -}}
{{- $fullname := include "auditflow.fullname" . -}}
{{- $metricsPort := int (default 0 .Values.containerPorts.metrics) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "auditflow.labels" . | nindent 4 }}
    app.kubernetes.io/component: server
spec:
  {{- if not (or .Values.autoscaling.enabled (and (hasKey .Values "keda") .Values.keda.enabled)) }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: {{ .Values.revisionHistoryLimit }}
  strategy:
    {{- toYaml .Values.updateStrategy | nindent 4 }}
  selector:
    matchLabels:
      {{- include "auditflow.workloadSelectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "auditflow.labels" . | nindent 8 }}
        app.kubernetes.io/component: server
        {{- include "auditflow.scrapeLabel" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- include "auditflow.prometheusAnnotations" (dict "port" (ternary $metricsPort .Values.containerPorts.http (gt $metricsPort 0))) | nindent 8 }}
        checksum/config: {{ include (printf "%s.configChecksum" $name) . | sha256sum }}
        checksum/secrets: {{ include "auditflow.externalSecretsChecksum" (dict "ctx" . "names" (include (printf "%s.externalSecrets" $name) . | fromYamlArray)) }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "auditflow.serviceAccountName" . }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "auditflow.podSecurityContext" . | nindent 8 }}
      {{- with include "auditflow.topologySpread" . }}
      {{- . | nindent 6 }}
      {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $name }}
          image: {{ include "auditflow.image" (dict "ctx" . "own" true "image" .Values.image "defaultTag" .Chart.AppVersion) }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          {{- with .Values.args }}
          args:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          ports:
            - name: http
              containerPort: {{ .Values.containerPorts.http }}
              protocol: TCP
            {{- if gt $metricsPort 0 }}
            - name: http-metrics
              containerPort: {{ $metricsPort }}
              protocol: TCP
            {{- end }}
          env:
            {{- include "auditflow.appEnv" . | nindent 12 }}
          {{- with .Values.probes.startup }}
          {{- if .enabled }}
          startupProbe:
            httpGet:
              path: {{ .path }}
              port: http
            periodSeconds: {{ .periodSeconds }}
            timeoutSeconds: {{ .timeoutSeconds }}
            failureThreshold: {{ .failureThreshold }}
          {{- end }}
          {{- end }}
          {{- with .Values.probes.liveness }}
          {{- if .enabled }}
          livenessProbe:
            httpGet:
              path: {{ .path }}
              port: http
            initialDelaySeconds: {{ .initialDelaySeconds }}
            periodSeconds: {{ .periodSeconds }}
            timeoutSeconds: {{ .timeoutSeconds }}
            failureThreshold: {{ .failureThreshold }}
          {{- end }}
          {{- end }}
          {{- with .Values.probes.readiness }}
          {{- if .enabled }}
          readinessProbe:
            httpGet:
              path: {{ .path }}
              port: http
            initialDelaySeconds: {{ .initialDelaySeconds }}
            periodSeconds: {{ .periodSeconds }}
            timeoutSeconds: {{ .timeoutSeconds }}
            successThreshold: {{ .successThreshold }}
            failureThreshold: {{ .failureThreshold }}
          {{- end }}
          {{- end }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- include "auditflow.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- include (printf "%s.volumeMounts" $name) . | nindent 12 }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ .Values.tmpSizeLimit }}
        {{- include (printf "%s.volumes" $name) . | nindent 8 }}
{{- end -}}

{{- define "auditflow.app.service" -}}
{{- $metricsPort := int (default 0 .Values.containerPorts.metrics) -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "auditflow.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "auditflow.labels" . | nindent 4 }}
    app.kubernetes.io/component: server
  {{- with .Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .Values.service.type }}
  selector:
    {{- include "auditflow.workloadSelectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      {{- if and (eq .Values.service.type "NodePort") .Values.service.nodePort }}
      nodePort: {{ .Values.service.nodePort }}
      {{- end }}
    {{- if gt $metricsPort 0 }}
    - name: http-metrics
      port: {{ .Values.service.metricsPort }}
      targetPort: http-metrics
      protocol: TCP
    {{- end }}
{{- end -}}

{{- define "auditflow.app.serviceAccount" -}}
{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "auditflow.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "auditflow.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
# The services never call the Kubernetes API, so no token is mounted (D24).
automountServiceAccountToken: false
{{- end }}
{{- end -}}

{{- define "auditflow.app.podDisruptionBudget" -}}
{{- if .Values.podDisruptionBudget.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "auditflow.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "auditflow.labels" . | nindent 4 }}
spec:
  {{- if .Values.podDisruptionBudget.minAvailable }}
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  {{- end }}
  {{- /* A single replica must still be drainable, so unhealthy pods never block eviction. */}}
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "auditflow.workloadSelectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}

{{- define "auditflow.app.horizontalPodAutoscaler" -}}
{{- if .Values.autoscaling.enabled -}}
{{- if and (hasKey .Values "keda") .Values.keda.enabled -}}
{{- fail "autoscaling.enabled and keda.enabled are mutually exclusive: both would own the replica count" -}}
{{- end -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "auditflow.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "auditflow.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "auditflow.fullname" . }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    {{- with .Values.autoscaling.targetCPUUtilizationPercentage }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
    {{- with .Values.autoscaling.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
{{- end }}
{{- end -}}

{{- define "auditflow.app.serviceMonitor" -}}
{{- if .Values.serviceMonitor.enabled -}}
{{- $metricsPort := int (default 0 .Values.containerPorts.metrics) -}}
{{- include "auditflow.serviceMonitor" (dict "ctx" . "port" (ternary "http-metrics" "http" (gt $metricsPort 0)) "path" "/metrics") }}
{{- end }}
{{- end -}}

{{/*
A Prometheus Operator ServiceMonitor whose series look like those of the prometheus.io
annotation job (monitoring/prometheus/prometheus.yaml), so the same alert rules and dashboard
work with either: `job` is app.kubernetes.io/name, `node` is the pod's node, and the service's
own `service` label is kept (honorLabels) instead of becoming exported_service.
global.serviceMonitor.labels (e.g. release: kube-prometheus-stack, which that stack selects on)
and the chart's serviceMonitor.labels are both applied.
Usage: {{ include "auditflow.serviceMonitor" (dict "ctx" . "port" "http-metrics" "path" "/metrics") }}
*/}}
{{- define "auditflow.serviceMonitor" -}}
{{- $ctx := .ctx -}}
{{- $global := (($ctx.Values.global).serviceMonitor).labels | default dict -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "auditflow.fullname" $ctx }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "auditflow.labels" $ctx | nindent 4 }}
    {{- with merge (deepCopy ($ctx.Values.serviceMonitor.labels | default dict)) $global }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  jobLabel: app.kubernetes.io/name
  selector:
    matchLabels:
      {{- include "auditflow.workloadSelectorLabels" $ctx | nindent 6 }}
  namespaceSelector:
    matchNames:
      - {{ $ctx.Release.Namespace }}
  endpoints:
    - port: {{ .port }}
      path: {{ .path }}
      honorLabels: true
      interval: {{ $ctx.Values.serviceMonitor.interval }}
      {{- with $ctx.Values.serviceMonitor.scrapeTimeout }}
      scrapeTimeout: {{ . }}
      {{- end }}
      relabelings:
        - sourceLabels: [__meta_kubernetes_pod_node_name]
          targetLabel: node
{{- end -}}

{{- define "auditflow.app.testReadyz" -}}
{{- if .Values.tests.enabled -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "auditflow.fullname" . }}-test-readyz
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "auditflow.testLabels" . | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    {{- toYaml .Values.tests.podSecurityContext | nindent 4 }}
  containers:
    - name: readyz
      image: {{ include "auditflow.image" (dict "ctx" . "image" .Values.tests.image "defaultTag" "") }}
      imagePullPolicy: IfNotPresent
      # Readiness means every dependency answered a live check, so this proves the wiring, not just the process.
      command:
        - curl
        - --fail-with-body
        - --silent
        - --show-error
        - --retry
        - "12"
        - --retry-delay
        - "5"
        - --retry-all-errors
        - --max-time
        - "5"
        - http://{{ include "auditflow.fullname" . }}:{{ .Values.service.port }}/readyz
      resources:
        {{- toYaml .Values.tests.resources | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
{{- end }}
{{- end -}}
