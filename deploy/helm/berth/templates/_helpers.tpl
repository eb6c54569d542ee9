{{/*
Names, labels and image references shared by every template. Environment and volume blocks the
two gateways share live in _gateway-env.tpl; cross-field checks that the schema cannot express
live in _validate.tpl.
*/}}

{{- define "berth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "berth.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Component object names: <fullname>-<component>, kept under 63 characters. */}}
{{- define "berth.gateway.fullname" -}}{{ printf "%s-gateway" (include "berth.fullname" .) | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "berth.egress.fullname" -}}{{ printf "%s-egress" (include "berth.fullname" .) | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "berth.redis.fullname" -}}{{ printf "%s-redis" (include "berth.fullname" .) | trunc 63 | trimSuffix "-" }}{{- end -}}

{{- define "berth.sandboxNamespace" -}}
{{- default (printf "%s-sandboxes" .Release.Name) .Values.sandboxes.namespace.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "berth.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "berth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: berth
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component; call with (dict "root" $ "component" "gateway"). Stable
across upgrades: selectors are immutable on Deployments and StatefulSets. */}}
{{- define "berth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "berth.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "berth.componentLabels" -}}
{{ include "berth.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* repository:tag or repository@digest, behind global.imageRegistry when set (a mirror or a
private registry for every image the release runs, sandboxes included); call with
(dict "image" .Values.image "root" $). */}}
{{- define "berth.imageRef" -}}
{{- $registry := (.root.Values.global | default dict).imageRegistry | default "" | trimSuffix "/" -}}
{{- $repository := ternary (printf "%s/%s" $registry .image.repository) .image.repository (ne $registry "") -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{/* imagePullSecrets of every pod the chart runs: global.imagePullSecrets then imagePullSecrets. */}}
{{- define "berth.imagePullSecrets" -}}
{{- $secrets := concat ((.Values.global | default dict).imagePullSecrets | default list) (.Values.imagePullSecrets | default list) | uniq -}}
{{- with $secrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Scheduling knobs a component shares (gateway, egress): priorityClassName, topology spread
(the component's own list, else the default one-per-node spread), node selector, tolerations,
affinity. Call with (dict "root" $ "component" "gateway" "v" .Values.gateway). */}}
{{- define "berth.scheduling" -}}
{{- $v := .v -}}
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- if $v.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml $v.topologySpreadConstraints | nindent 2 }}
{{- else if $v.spreadAcrossNodes }}
{{ include "berth.spread" (dict "root" .root "component" .component) }}
{{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "berth.gatewayImage" -}}{{ include "berth.imageRef" (dict "image" .Values.image "root" .) }}{{- end -}}
{{- define "berth.agentImage" -}}{{ include "berth.imageRef" (dict "image" .Values.agentImage "root" .) }}{{- end -}}

{{/* terminationGracePeriodSeconds: explicit, or preStop + drain + 10 s of margin for exit. */}}
{{- define "berth.terminationGrace" -}}
{{- if kindIs "invalid" .terminationGracePeriodSeconds -}}
{{- add .preStopSleepS .drainGraceS 10 -}}
{{- else -}}
{{- .terminationGracePeriodSeconds -}}
{{- end -}}
{{- end -}}

{{/* Secret names: the user's existing Secret, or the one the chart renders. */}}
{{- define "berth.tenantsSecret" -}}{{ default (printf "%s-tenants" (include "berth.fullname" .)) .Values.tenants.existingSecret }}{{- end -}}
{{- define "berth.credentialKeysSecret" -}}{{ default (printf "%s-credential-keys" (include "berth.fullname" .)) .Values.credentialKeys.existingSecret }}{{- end -}}
{{- define "berth.modelApiKeySecret" -}}{{ default (printf "%s-model-api-key" (include "berth.fullname" .)) .Values.modelApiKey.existingSecret }}{{- end -}}
{{- define "berth.redisUrlSecret" -}}{{ default (printf "%s-redis-url" (include "berth.fullname" .)) .Values.redis.external.existingSecret }}{{- end -}}
{{- define "berth.redisAuthSecret" -}}{{ default (printf "%s-redis-auth" (include "berth.fullname" .)) .Values.redis.bundled.auth.existingSecret }}{{- end -}}

{{- define "berth.hasModelApiKey" -}}{{ if or .Values.modelApiKey.existingSecret .Values.modelApiKey.value }}true{{ end }}{{- end -}}

{{/* Spread a component's replicas over nodes when the scheduler can; never blocks scheduling. */}}
{{- define "berth.spread" -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "berth.selectorLabels" (dict "root" .root "component" .component) | nindent 8 }}
{{- end -}}
