#!/bin/sh
# Prints the kind quickstart's tenants file (the format of BERTH_TENANTS_FILE) for two token
# hashes: alice and bob, each with a small egress allowlist and limits. up.sh pipes it into the
# berth-tenants Secret; tests parse it with the gateway's own parser.
# Usage: kind/demo-tenants.sh ALICE_SHA256_HEX BOB_SHA256_HEX
set -eu
[ "$#" -eq 2 ] || {
  printf 'usage: kind/demo-tenants.sh ALICE_SHA256_HEX BOB_SHA256_HEX\n' >&2
  exit 2
}
cat <<YAML
tenants:
  alice:
    tokenHashes: ["sha256:$1"]
    agent: { allowedTools: [Bash, Read], maxTurns: 20 }
    sandboxProfile: default
    egress: { allow: ["api.github.com", "registry.npmjs.org"] }
    limits: { maxConcurrentSessions: 5, maxConcurrentTurns: 2, requestsPerMinute: 60, tokenBudget: { tokens: 500000, periodS: 86400 } }
  bob:
    tokenHashes: ["sha256:$2"]
    agent: { allowedTools: [Bash, Read], maxTurns: 10 }
    sandboxProfile: default
    egress: { allow: ["pypi.org", "files.pythonhosted.org"] }
    limits: { maxConcurrentSessions: 2, maxConcurrentTurns: 1, requestsPerMinute: 30, tokenBudget: { tokens: 200000, periodS: 86400 } }
admins:
  tokenHashes: []
YAML
