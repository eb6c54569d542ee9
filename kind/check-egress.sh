#!/bin/sh
# Proves berth's network isolation on the kind cluster (kind/up.sh) with a probe matrix run from
# inside the sandbox namespace, where the chart's NetworkPolicy covers every pod:
#   agent -> egress gateway allowed, cluster DNS allowed;
#   agent -> internet, another agent, Redis, the Kubernetes API, the ingress gateway refused.
# Two controls show the refusals are the policy, not a broken probe: the gateway reaches the
# listening "agent", and the egress gateway reaches the internet.
# Probe pods run the agent image (its node does the TCP connects) and are removed at the end.
# --dry-run prints the numbered plan and changes nothing. Exit status 1 if any probe disagrees.
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=kind/lib.sh
. kind/lib.sh

parse_args "Usage: kind/check-egress.sh [--dry-run]

Runs the egress probe matrix in the kind cluster '$BERTH_CLUSTER' (release '$BERTH_RELEASE' in
namespace '$BERTH_NAMESPACE'; sandboxes in '$BERTH_SANDBOX_NAMESPACE')." "$@"

CLIENT_POD=berth-probe-client
LISTENER_POD=berth-probe-listener
# An address that answers TCP 443 on the internet (Cloudflare DNS), and a name that resolves.
INTERNET_IP=1.1.1.1
INTERNET_NAME=example.com
EGRESS_HOST="$BERTH_RELEASE-egress.$BERTH_NAMESPACE.svc.cluster.local"
REDIS_HOST="$BERTH_RELEASE-redis.$BERTH_NAMESPACE.svc.cluster.local"
GATEWAY_HOST="$BERTH_RELEASE-gateway.$BERTH_NAMESPACE.svc.cluster.local"
FAILURES=0

# TCP connect with a 4 s timeout; exit 0 when connected. A NetworkPolicy drop shows as a timeout.
CONNECT_JS='const [host, port] = process.argv.slice(1);
const s = require("net").connect({ host, port: Number(port) });
s.setTimeout(4000);
s.on("connect", () => { console.log("connected"); process.exit(0); });
s.on("timeout", () => { console.log("timed out"); process.exit(1); });
s.on("error", (e) => { console.log(e.code || e.message); process.exit(1); });'
RESOLVE_JS='require("dns").lookup(process.argv[1], (e, a) => { console.log(e ? e.code : a); process.exit(e ? 1 : 0); });'

probe_pod() { # NAME COMMAND_JSON: a pod the restricted Pod Security level admits
  cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: { app.kubernetes.io/name: berth-probe }
spec:
  automountServiceAccountToken: false
  restartPolicy: Never
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
    seccompProfile: { type: RuntimeDefault }
  containers:
    - name: probe
      image: $BERTH_AGENT_IMAGE
      imagePullPolicy: IfNotPresent
      command: $2
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: { drop: [ALL] }
---
EOF
}

check_prerequisites() {
  require_commands kubectl
  kube get namespace "$BERTH_SANDBOX_NAMESPACE" >/dev/null ||
    die "no namespace $BERTH_SANDBOX_NAMESPACE in context $BERTH_CONTEXT: run kind/up.sh first"
  [ "$(kube -n "$BERTH_SANDBOX_NAMESPACE" get networkpolicy -o name | wc -l)" -gt 0 ] ||
    die "no NetworkPolicy in $BERTH_SANDBOX_NAMESPACE: was the chart installed with networkPolicies.enabled=false?"
}

start_probes() {
  {
    probe_pod "$CLIENT_POD" '["node", "-e", "setInterval(() => {}, 1 << 30)"]'
    probe_pod "$LISTENER_POD" '["node", "-e", "require(\"net\").createServer((s) => s.end(\"ok\\n\")).listen(8000)"]'
  } | kube -n "$BERTH_SANDBOX_NAMESPACE" apply -f -
  kube -n "$BERTH_SANDBOX_NAMESPACE" wait --for=condition=Ready "pod/$CLIENT_POD" "pod/$LISTENER_POD" --timeout=120s
}

remove_probes() {
  kube -n "$BERTH_SANDBOX_NAMESPACE" delete pod "$CLIENT_POD" "$LISTENER_POD" --ignore-not-found --wait=false >/dev/null 2>&1 || true
}

# expect WANT LABEL NAMESPACE TARGET HOST PORT: WANT is allowed|refused; TARGET runs the probe.
expect() {
  want=$1 label=$2 namespace=$3 target=$4 host=$5 port=$6
  if output=$(kube -n "$namespace" exec "$target" -- node -e "$CONNECT_JS" "$host" "$port" 2>&1); then got=allowed; else got=refused; fi
  report "$want" "$got" "$label ($host:$port): $(printf '%s' "$output" | tail -n 1)"
}

report() { # WANT GOT TEXT
  if [ "$1" = "$2" ]; then
    printf 'PASS  %-8s %s\n' "$2" "$3"
  else
    printf 'FAIL  %-8s %s (expected %s)\n' "$2" "$3" "$1"
    FAILURES=$((FAILURES + 1))
  fi
}

probe_dns() {
  if output=$(kube -n "$BERTH_SANDBOX_NAMESPACE" exec "$CLIENT_POD" -- node -e "$RESOLVE_JS" "$EGRESS_HOST" 2>&1); then got=allowed; else got=refused; fi
  report allowed "$got" "agent -> cluster DNS (resolve $EGRESS_HOST): $output"
}

probe_another_agent() {
  listener_ip=$(kube -n "$BERTH_SANDBOX_NAMESPACE" get pod "$LISTENER_POD" -o jsonpath='{.status.podIP}')
  expect refused "agent -> another agent" "$BERTH_SANDBOX_NAMESPACE" "$CLIENT_POD" "$listener_ip" 8000
}

control_gateway_to_agent() {
  listener_ip=$(kube -n "$BERTH_SANDBOX_NAMESPACE" get pod "$LISTENER_POD" -o jsonpath='{.status.podIP}')
  expect allowed "control: gateway -> agent" "$BERTH_NAMESPACE" "deploy/$BERTH_RELEASE-gateway" "$listener_ip" 8000
}

summary() {
  if [ "$FAILURES" -eq 0 ]; then
    info "All probes behaved as the NetworkPolicies intend."
  else
    die "$FAILURES probe(s) disagreed with the NetworkPolicies (is the CNI enforcing them? kind/up.sh installs Calico)"
  fi
}

[ "$DRY_RUN" = 1 ] || trap remove_probes EXIT INT TERM

step "Check prerequisites (kubectl, the berth release on context $BERTH_CONTEXT)" check_prerequisites
step "Start the probe pods $CLIENT_POD and $LISTENER_POD in $BERTH_SANDBOX_NAMESPACE" start_probes
step "Probe agent -> egress gateway: allowed" expect allowed "agent -> egress gateway" "$BERTH_SANDBOX_NAMESPACE" "$CLIENT_POD" "$EGRESS_HOST" 8081
step "Probe agent -> cluster DNS: allowed" probe_dns
step "Probe agent -> internet by address: refused" expect refused "agent -> internet" "$BERTH_SANDBOX_NAMESPACE" "$CLIENT_POD" "$INTERNET_IP" 443
step "Probe agent -> internet by name: refused" expect refused "agent -> internet" "$BERTH_SANDBOX_NAMESPACE" "$CLIENT_POD" "$INTERNET_NAME" 443
step "Probe agent -> another agent: refused" probe_another_agent
step "Probe agent -> Redis: refused" expect refused "agent -> Redis" "$BERTH_SANDBOX_NAMESPACE" "$CLIENT_POD" "$REDIS_HOST" 6379
step "Probe agent -> Kubernetes API: refused" expect refused "agent -> Kubernetes API" "$BERTH_SANDBOX_NAMESPACE" "$CLIENT_POD" kubernetes.default.svc.cluster.local 443
step "Probe agent -> ingress gateway: refused" expect refused "agent -> ingress gateway" "$BERTH_SANDBOX_NAMESPACE" "$CLIENT_POD" "$GATEWAY_HOST" 8080
step "Control gateway -> agent: allowed (the listener is up)" control_gateway_to_agent
step "Control egress gateway -> internet: allowed" expect allowed "control: egress gateway -> internet" "$BERTH_NAMESPACE" "deploy/$BERTH_RELEASE-egress" "$INTERNET_IP" 443
step "Remove the probe pods" remove_probes
step "Summarise" summary
