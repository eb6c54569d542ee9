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
{{- if eq $.Values.redis.mode "external" }}
- name: BERTH_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "berth.redisUrlSecret" $ }}
      key: {{ $.Values.redis.external.existingSecretKey }}
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
