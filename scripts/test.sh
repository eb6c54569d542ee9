#!/usr/bin/env bash
# `npm test`: installs what the suites need when it can, builds, runs every vitest project.
# Extra arguments go to vitest (e.g. `npm test -- --project unit`).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt() { # $1 = command, $2 = Debian package
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $2 (needed by the tests)"
    if [ -z "${BERTH_APT_UPDATED:-}" ]; then apt-get update -qq >/dev/null; BERTH_APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "berth's tests need $1: install it with 'sudo apt-get install -y $2' and run npm test again" >&2
    exit 1
  fi
}
need_apt redis-server redis-server   # integration: a private Redis per test file
need_apt shellcheck shellcheck       # deploy: kind/*.sh
need_apt openssl openssl             # egress: a self-signed TLS server per test
need_apt curl curl                   # e2e: the agent's Bash tool curls through the egress proxy
need_apt ps procps                   # process-tree checks (no process outlives a test)
need_apt ss iproute2                 # finding an agent process by its port
need_apt bwrap bubblewrap             # e2e: each local sandbox in its own namespaces (isolation.test.ts)
need_apt kubectl kubectl             # kubernetes: stock kubectl against the fake API server

[ -d node_modules ] || npm ci
node scripts/setup-helm.mjs
npm run build --silent
export BERTH_BENCH_ROUNDS="${BERTH_BENCH_ROUNDS:-${CI:+5}}"
vitest() { npx vitest run --config tests/vitest.config.ts "$@"; }
if [ "$#" -gt 0 ]; then
  vitest "$@"
else
  # The suites first, then the benchmarks alone: a benchmark sharing two cores with the e2e
  # suites would measure them, not berth.
  vitest --project unit --project integration --project e2e --project kubernetes --project modal --project deploy
  vitest --project bench --no-file-parallelism
fi
