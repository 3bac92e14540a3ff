{{/* Chart name, overridable. */}}
{{- define "otlp-client.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name when it already contains the chart name (release "otlp-client" gives "otlp-client"). */}}
{{- define "otlp-client.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "otlp-client.selectorLabels" -}}
app.kubernetes.io/name: {{ include "otlp-client.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "otlp-client.labels" -}}
{{ include "otlp-client.selectorLabels" . }}
app.kubernetes.io/part-of: otlp-client
app.kubernetes.io/version: {{ include "otlp-client.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "otlp-client.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "otlp-client.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "otlp-client.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* Refuses values from the deploy plan that no longer apply, saying what to do instead. */}}
{{- define "otlp-client.validate" -}}
{{- if eq (toString .Values.image.tag) "latest" }}
{{- fail "image.tag \"latest\" is refused: a moving tag makes rollouts and rollbacks unreproducible; set a version tag or image.digest" }}
{{- end }}
{{- if or (hasKey .Values "prometheus") (hasKey .Values "grafana") }}
{{- fail "prometheus.* and grafana.* values are not used: this chart does not bundle Prometheus or Grafana. Install them on their own (kube-prometheus-stack, grafana) and set monitoring.serviceMonitor.labels, monitoring.prometheusRule.labels and monitoring.grafanaDashboard.labels to match them" }}
{{- end }}
{{- end }}

{{- define "otlp-client.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "otlp-client.imageTag" .) }}
{{- end }}
{{- end }}

{{/* config.toml, refusing endpoints the relay cannot use. */}}
{{- define "otlp-client.configToml" -}}
{{- $c := .Values.config }}
{{- if regexMatch ":(14268|14250)(/|$)" $c.endpoint }}
{{- fail (printf "config.endpoint %q is a Jaeger legacy port (14268 Thrift, 14250 model.proto), not OTLP; use the backend's OTLP port 4317 (grpc) or 4318 (http)" $c.endpoint) }}
{{- end }}
{{- if lt (int (add $c.resilience.max_retries 1)) (int $c.resilience.circuit_breaker_threshold) }}
{{- fail (printf "config.resilience.max_retries (%v) + 1 is below circuit_breaker_threshold (%v): batches would be dropped before the breaker opens" $c.resilience.max_retries $c.resilience.circuit_breaker_threshold) }}
{{- end -}}
# Rendered by the otlp-client Helm chart from .Values.config.
[server]
health_addr = "0.0.0.0:8080"
grpc_addr = "0.0.0.0:4317"
http_addr = "0.0.0.0:4318"
shutdown_timeout = {{ $c.shutdown_timeout | quote }}

[otlp]
endpoint = {{ $c.endpoint | quote }}
protocol = {{ $c.protocol | quote }}
batch_size = {{ int $c.batch_size }}
timeout = {{ $c.timeout | quote }}
export_timeout = {{ $c.export_timeout | quote }}
queue_size = {{ int $c.queue_size }}

[resilience]
max_retries = {{ int $c.resilience.max_retries }}
retry_delay = {{ $c.resilience.retry_delay | quote }}
max_retry_delay = {{ $c.resilience.max_retry_delay | quote }}
circuit_breaker_threshold = {{ int $c.resilience.circuit_breaker_threshold }}
circuit_breaker_reset_timeout = {{ $c.resilience.circuit_breaker_reset_timeout | quote }}

[monitoring]
metrics_enabled = true
health_check_interval = {{ $c.monitoring.health_check_interval | quote }}
log_format = {{ $c.monitoring.log_format | quote }}
{{- end }}
