#!/bin/sh
# Removes the berth kind cluster (kind/up.sh) and the tokens it generated. Nothing else: other
# kind clusters and Docker images stay. --dry-run prints the numbered plan and changes nothing.
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=kind/lib.sh
. kind/lib.sh

parse_args "Usage: kind/down.sh [--dry-run]

Deletes the kind cluster '$BERTH_CLUSTER' and $BERTH_STATE_DIR (the generated tokens)." "$@"

delete_cluster() {
  if cluster_exists; then
    kind delete cluster --name "$BERTH_CLUSTER"
  else
    info "no kind cluster named $BERTH_CLUSTER; nothing to delete"
  fi
}

step "Check prerequisites (kind)" require_commands kind
step "Delete the kind cluster '$BERTH_CLUSTER'" delete_cluster
step "Remove the generated tokens ($BERTH_STATE_DIR)" rm -rf "$BERTH_STATE_DIR"
[ "$DRY_RUN" = 1 ] || info "berth's kind cluster is gone."
