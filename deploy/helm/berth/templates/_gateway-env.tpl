{{/*
Environment and volumes both gateway processes share (tenants, Redis, credential keys, logging).
What only one of them gets (the model key, the Kubernetes backend settings) stays in its own
Deployment template, so reading one template tells you everything that pod can see.
*/}}

{{- define "berth.redisUrl" -}}
{{- $host := printf "%s.%s.svc.%s:6379" (include "berth.redis.fullname" .) .Release.Namespace .Values.clusterDomain -}}
{{- if .Values.redis.bundled.auth.enabled -}}
{{- /* $(REDIS_PASSWORD) is expanded by the kubelet from the env var defined just before, so
the password never appears in the pod spec. */ -}}
{{- printf "redis://:$(REDIS_PASSWORD)@%s" $host -}}
{{- else -}}
{{- printf "redis://%s" $host -}}
{{- end -}}
{{- end -}}

{{/* Call with (dict "root" $ "drainGraceS" N). */}}
{{- define "berth.sharedEnv" -}}
{{- $ := .root -}}
- name: BERTH_LOG_LEVEL
  value: {{ $.Values.config.logLevel | quote }}
- name: BERTH_DRAIN_GRACE_S
  value: {{ .drainGraceS | quote }}
- name: BERTH_IDLE_TIMEOUT_S
  value: {{ $.Values.config.idleTimeoutS | quote }}
- name: BERTH_TENANTS_FILE
  value: /etc/berth/tenants/tenants.yaml
{{- $redis := $.Values.redis }}
{{- if eq $redis.mode "external" }}
- name: BERTH_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "berth.redisUrlSecret" $ }}
      key: {{ $redis.external.existingSecretKey }}
{{- else if has $redis.mode (list "sentinel" "cluster") }}
{{- if eq $redis.mode "sentinel" }}
# The sentinels tell the gateway which node is master, and again after a failover.
- name: BERTH_REDIS_SENTINELS
  value: {{ join "," $redis.sentinel.addresses | quote }}
- name: BERTH_REDIS_SENTINEL_NAME
  value: {{ $redis.sentinel.masterName | quote }}
{{- with $redis.sentinel.password.existingSecret }}
- name: BERTH_REDIS_SENTINEL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $redis.sentinel.password.existingSecretKey }}
{{- end }}
{{- else }}
# Seed nodes: the gateway learns the slot map from them and follows resharding.
- name: BERTH_REDIS_CLUSTER_NODES
  value: {{ join "," $redis.cluster.nodes | quote }}
{{- end }}
{{- with $redis.password.existingSecret }}
- name: BERTH_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $redis.password.existingSecretKey }}
{{- end }}
{{- if $redis.tls }}
- name: BERTH_REDIS_TLS
  value: "true"
{{- end }}
{{- else }}
{{- if $.Values.redis.bundled.auth.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "berth.redisAuthSecret" $ }}
      key: {{ $.Values.redis.bundled.auth.existingSecretKey }}
{{- end }}
- name: BERTH_REDIS_URL
  value: {{ include "berth.redisUrl" $ | quote }}
{{- end }}
- name: BERTH_REDIS_PREFIX
  value: {{ $.Values.config.redisPrefix | quote }}
- name: BERTH_CREDENTIAL_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "berth.credentialKeysSecret" $ }}
      key: {{ $.Values.credentialKeys.existingSecretKey }}
{{- end -}}

{{- define "berth.tenantsVolume" -}}
- name: tenants
  secret:
    secretName: {{ include "berth.tenantsSecret" . }}
    # Mounted whole (not subPath) so the kubelet refreshes it when the Secret changes.
    items:
      - key: {{ .Values.tenants.existingSecretKey }}
        path: tenants.yaml
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}

{{- define "berth.tenantsMount" -}}
- name: tenants
  mountPath: /etc/berth/tenants
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* Roll pods when configuration the chart renders changes (not for user-managed Secrets). */}}
{{- define "berth.configChecksum" -}}
{{- $tenants := ternary "" (toYaml .Values.tenants.config) (ne .Values.tenants.existingSecret "") -}}
{{- printf "%s|%s|%s" $tenants (toYaml .Values.sandboxes.profiles) (toYaml .Values.config) | sha256sum -}}
{{- end -}}
