{{/* The chart name, shortened to Kubernetes' 63-character label limit. */}}
{{- define "execution-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The name of the release's objects. */}}
{{- define "execution-operator.fullname" -}}
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

{{/* The labels every object of the release carries. */}}
{{- define "execution-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "execution-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: operator
{{- end }}

{{/* The labels that select the operator pod (never change across upgrades). */}}
{{- define "execution-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "execution-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "execution-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "execution-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag or repository@digest; the tag defaults to the appVersion. */}}
{{- define "execution-operator.imageRef" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .appVersion .image.tag) }}
{{- end }}
{{- end }}

{{- define "execution-operator.image" -}}
{{- include "execution-operator.imageRef" (dict "image" .Values.image "appVersion" .Chart.AppVersion) }}
{{- end }}

{{- define "execution-operator.runnerImage" -}}
{{- include "execution-operator.imageRef" (dict "image" .Values.runner.image "appVersion" .Chart.AppVersion) }}
{{- end }}

{{/* Settings that need more than one value to be right fail the render early. */}}
{{- define "execution-operator.checks" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.peering.enabled) }}
{{- fail "replicaCount > 1 needs peering.enabled=true: replicas without peering would all act on every Execution" }}
{{- end }}
{{- if and .Values.peering.enabled (not .Values.crds.install) }}
{{- /* the peering CRDs must then exist already; nothing to check from here */}}
{{- end }}
{{- end }}

{{- /* What the operator does, and nothing more; never Secrets: the kubelet resolves
spec.env's secretKeyRef, the operator only names them. */}}
{{- define "execution-operator.rules" -}}
- apiGroups: [execution-operator.io]
  resources: [executions]
  # patch: kopf's bookkeeping annotations; delete: ttlSecondsAfterFinished.
  verbs: [get, list, watch, patch, delete]
- apiGroups: [execution-operator.io]
  resources: [executions/status]
  verbs: [get, patch]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
- apiGroups: [""]
  resources: [configmaps]
  # create: the payload; get: codeFrom/inputFrom exist (their data is not copied).
  verbs: [get, create]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- if .Values.peering.enabled }}
- apiGroups: [kopf.dev]
  resources: [kopfpeerings]
  verbs: [get, list, watch, patch, create]
{{- end }}
{{- end }}
