{{/* The prefix of every object's name: the release name, or fullnameOverride. */}}
{{- define "syncgate.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 53 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select syncgate's pods. */}}
{{- define "syncgate.selectorLabels" -}}
app.kubernetes.io/name: syncgate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "syncgate.labels" -}}
{{ include "syncgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The managed namespaces, comma-separated: MANAGED_NAMESPACES. */}}
{{- define "syncgate.managedNamespaces" -}}
{{- $names := list -}}
{{- range .Values.managedNamespaces }}{{ $names = append $names .name }}{{ end -}}
{{- join "," $names -}}
{{- end -}}
