{{/*
Cross-field checks values.schema.json cannot express. Each failure names the value to change, so
a bad install stops at `helm install` with a fix rather than as a crash-looping pod.
*/}}
{{- define "berth.validate" -}}
{{- $errors := list -}}

{{- range $component := list "gateway" "egress" -}}
{{- $v := index $.Values $component -}}
{{- if not (kindIs "invalid" $v.terminationGracePeriodSeconds) -}}
{{- if le (int $v.terminationGracePeriodSeconds) (int (add $v.preStopSleepS $v.drainGraceS)) -}}
{{- $errors = append $errors (printf "%s.terminationGracePeriodSeconds (%v) must exceed %s.preStopSleepS + %s.drainGraceS (%v): the kubelet would kill the pod mid-drain" $component $v.terminationGracePeriodSeconds $component $component (add $v.preStopSleepS $v.drainGraceS)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- if eq .Values.redis.mode "external" -}}
{{- if and (not .Values.redis.external.url) (not .Values.redis.external.existingSecret) -}}
{{- $errors = append $errors "redis.mode=external needs redis.external.url or redis.external.existingSecret" -}}
{{- end -}}
{{- if and .Values.redis.external.url .Values.redis.external.existingSecret -}}
{{- $errors = append $errors "set only one of redis.external.url and redis.external.existingSecret" -}}
{{- end -}}
{{- end -}}

{{- if and .Values.modelApiKey.value .Values.modelApiKey.existingSecret -}}
{{- $errors = append $errors "set only one of modelApiKey.value and modelApiKey.existingSecret" -}}
{{- end -}}

{{- if and (not (kindIs "invalid" .Values.gateway.service.nodePort)) (ne .Values.gateway.service.type "NodePort") -}}
{{- $errors = append $errors "gateway.service.nodePort needs gateway.service.type=NodePort" -}}
{{- end -}}

{{- if gt (int .Values.gateway.autoscaling.minReplicas) (int .Values.gateway.autoscaling.maxReplicas) -}}
{{- $errors = append $errors "gateway.autoscaling.minReplicas must not exceed maxReplicas" -}}
{{- end -}}

{{- $profileNames := dict -}}
{{- range .Values.sandboxes.profiles -}}
{{- if hasKey $profileNames .name -}}
{{- $errors = append $errors (printf "sandboxes.profiles: profile %q is defined twice" .name) -}}
{{- end -}}
{{- $_ := set $profileNames .name true -}}
{{- end -}}

{{- if not .Values.tenants.existingSecret -}}
{{- range $tenant, $spec := (.Values.tenants.config.tenants | default dict) -}}
{{- $wanted := (get $spec "sandboxProfile") | default "default" -}}
{{- if not (hasKey $profileNames $wanted) -}}
{{- $errors = append $errors (printf "tenant %q uses sandboxProfile %q, which sandboxes.profiles does not define" $tenant $wanted) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- if $errors -}}
{{- fail (printf "\n\nberth: invalid values:\n  - %s\n" (join "\n  - " $errors)) -}}
{{- end -}}
{{- end -}}
