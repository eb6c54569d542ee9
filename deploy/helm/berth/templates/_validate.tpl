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

{{- $r := .Values.redis -}}
{{- if and (eq $r.mode "sentinel") (not $r.sentinel.addresses) -}}
{{- $errors = append $errors "redis.mode=sentinel needs redis.sentinel.addresses (host:port of each sentinel)" -}}
{{- end -}}
{{- if and (eq $r.mode "cluster") (not $r.cluster.nodes) -}}
{{- $errors = append $errors "redis.mode=cluster needs redis.cluster.nodes (host:port seed nodes)" -}}
{{- end -}}

{{- if eq .Values.backend "modal" -}}
{{- $m := .Values.modal -}}
{{- if not $m.token.existingSecret -}}
{{- $errors = append $errors "backend=modal needs modal.token.existingSecret: a Secret holding MODAL_TOKEN_ID and MODAL_TOKEN_SECRET" -}}
{{- end -}}
{{- if eq $m.egress.expose "ingress" -}}
{{- if not $m.egress.ingress.host -}}
{{- $errors = append $errors "modal.egress.expose=ingress needs modal.egress.ingress.host" -}}
{{- end -}}
{{- if not $m.egress.ingress.tlsSecretName -}}
{{- $errors = append $errors "modal.egress.expose=ingress needs modal.egress.ingress.tlsSecretName: session credentials must not cross the internet in clear" -}}
{{- end -}}
{{- if and $m.egress.publicUrl (not (hasPrefix "https://" $m.egress.publicUrl)) -}}
{{- $errors = append $errors "modal.egress.publicUrl must be https:// with expose=ingress (the Ingress terminates TLS)" -}}
{{- end -}}
{{- end -}}
{{- if not (include "berth.egressPublicUrl" .) -}}
{{- $errors = append $errors "backend=modal needs the egress gateway's public address: modal.egress.publicUrl or modal.egress.loadBalancer.loadBalancerIP (Modal sandboxes cannot reach a cluster-internal Service)" -}}
{{- else if not (include "berth.modalEgressCidrs" .) -}}
{{- $errors = append $errors "backend=modal needs modal.egress.cidrs: Modal allowlists IP ranges, and the egress gateway's public address is a name (give the LoadBalancer's or ingress controller's IP)" -}}
{{- end -}}
{{- end -}}

{{- if and .Values.gateway.ingress.enabled (not .Values.gateway.ingress.hosts) -}}
{{- $errors = append $errors "gateway.ingress.enabled needs gateway.ingress.hosts" -}}
{{- end -}}
{{- if and .Values.gateway.httpRoute.enabled (not .Values.gateway.httpRoute.parentRefs) -}}
{{- $errors = append $errors "gateway.httpRoute.enabled needs gateway.httpRoute.parentRefs (the Gateway to attach to)" -}}
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
