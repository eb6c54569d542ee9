{{/*
What backend=modal changes: the ingress gateway's Modal settings (token from a Secret, app,
environment, tunnel, the sandboxes' outbound CIDR allowlist), and where sandboxes reach the
egress gateway (an address outside the cluster: a LoadBalancer or an Ingress with TLS).
*/}}

{{/* The URL sandboxes dial for the model API and as their proxy (BERTH_EGRESS_PUBLIC_URL). */}}
{{- define "berth.egressPublicUrl" -}}
{{- if eq .Values.backend "modal" -}}
{{- $m := .Values.modal.egress -}}
{{- if $m.publicUrl -}}
{{- $m.publicUrl -}}
{{- else if eq $m.expose "ingress" -}}
{{- printf "https://%s" $m.ingress.host -}}
{{- else if $m.loadBalancer.loadBalancerIP -}}
{{- printf "http://%s:%v" $m.loadBalancer.loadBalancerIP .Values.egress.port -}}
{{- end -}}
{{- else -}}
{{- printf "http://%s.%s.svc.%s:%v" (include "berth.egress.fullname" .) .Release.Namespace .Values.clusterDomain .Values.egress.port -}}
{{- end -}}
{{- end -}}

{{/* The Modal sandboxes' outbound CIDR allowlist: the egress gateway's public address only. */}}
{{- define "berth.modalEgressCidrs" -}}
{{- $m := .Values.modal.egress -}}
{{- if $m.cidrs -}}
{{- join "," $m.cidrs -}}
{{- else if $m.loadBalancer.loadBalancerIP -}}
{{- printf "%s/32" $m.loadBalancer.loadBalancerIP -}}
{{- else if $m.publicUrl -}}
{{- $host := (urlParse $m.publicUrl).hostname | default "" -}}
{{- if regexMatch "^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$" $host -}}
{{- printf "%s/32" $host -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "berth.modalEnv" -}}
{{- $m := .Values.modal -}}
- name: BERTH_MODAL_APP
  value: {{ $m.appName | quote }}
- name: BERTH_MODAL_TUNNEL
  value: {{ $m.tunnel | quote }}
{{- with include "berth.modalEgressCidrs" . }}
# Security control: Modal lets sandboxes open connections to these ranges only.
- name: BERTH_MODAL_EGRESS_CIDRS
  value: {{ . | quote }}
{{- end }}
{{- with $m.environment }}
- name: MODAL_ENVIRONMENT
  value: {{ . | quote }}
{{- end }}
# Read by the modal client itself; berth never handles them.
- name: MODAL_TOKEN_ID
  valueFrom:
    secretKeyRef:
      name: {{ $m.token.existingSecret }}
      key: {{ $m.token.idKey }}
- name: MODAL_TOKEN_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $m.token.existingSecret }}
      key: {{ $m.token.secretKey }}
{{- end -}}
