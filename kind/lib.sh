# shellcheck shell=sh disable=SC2034  # variables here are used by the scripts that source it
# Shared by up.sh, down.sh and check-egress.sh (sourced, not run). The numbered step runner is
# what makes --dry-run honest: a real run and a dry run walk the same `step` calls, one prints
# them, the other executes them, so the printed plan cannot drift from what runs.
# Every kubectl/helm call names the kind cluster's context, so nothing here touches another
# cluster in the user's kubeconfig.

BERTH_CLUSTER="${BERTH_KIND_CLUSTER:-berth}"
BERTH_CONTEXT="kind-${BERTH_CLUSTER}"
BERTH_NAMESPACE="${BERTH_NAMESPACE:-berth}"
BERTH_RELEASE="${BERTH_RELEASE:-berth}"
BERTH_SANDBOX_NAMESPACE="${BERTH_RELEASE}-sandboxes"
BERTH_GATEWAY_IMAGE="${BERTH_GATEWAY_IMAGE:-berth/gateway:dev}"
BERTH_AGENT_IMAGE="${BERTH_AGENT_IMAGE:-berth/agent:dev}"
BERTH_STATE_DIR="${BERTH_STATE_DIR:-kind/.state}"

DRY_RUN=0
STEP_NUMBER=0

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

info() {
  printf '%s\n' "$*"
}

# parse_args USAGE "$@": --dry-run and --help; anything else is an error.
parse_args() {
  usage=$1
  shift
  for arg in "$@"; do
    case "$arg" in
      --dry-run) DRY_RUN=1 ;;
      -h | --help)
        printf '%s\n' "$usage"
        exit 0
        ;;
      *) die "unknown argument: $arg (try --help)" ;;
    esac
  done
}

# step DESCRIPTION COMMAND [ARGS...]: numbered; printed (dry run) or announced and executed.
step() {
  STEP_NUMBER=$((STEP_NUMBER + 1))
  description=$1
  shift
  if [ "$DRY_RUN" = 1 ]; then
    printf '%s. %s\n' "$STEP_NUMBER" "$description"
    printf '     $ %s\n' "$*"
    return 0
  fi
  printf '\n==> %s. %s\n' "$STEP_NUMBER" "$description"
  "$@"
}

# require_commands CMD...: fails naming every missing command at once.
require_commands() {
  missing=""
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
  done
  [ -z "$missing" ] || die "missing commands:$missing (see deploy/README.md, \"Try it on kind\")"
}

kube() {
  kubectl --context "$BERTH_CONTEXT" "$@"
}

cluster_exists() {
  kind get clusters 2>/dev/null | grep -qx "$BERTH_CLUSTER"
}
