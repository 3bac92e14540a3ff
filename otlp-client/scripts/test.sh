#!/usr/bin/env bash
# Builds the real peers (Collector, Jaeger) from pinned Go modules, then runs the crate's lint and
# every test with the peers required (a missing peer fails instead of skipping).
# Usage: otlp-client/scripts/test.sh [--no-lint] [cargo test args...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$here/.."
# shellcheck source=../../scripts/lib.sh
source "$here/../../scripts/lib.sh"

lint=1
if [ "${1:-}" = "--no-lint" ]; then lint=0; shift; fi

command -v cargo >/dev/null || die "cargo is not installed"
start=$(date +%s)
eval "$("$here/peers.sh" otelcol jaeger)"
log "peers ready in $(( $(date +%s) - start ))s: OTELCOL_BIN=$OTELCOL_BIN JAEGER_BIN=$JAEGER_BIN"
export OTLP_RELAY_TESTS_REQUIRE_PEERS=1

cd "$crate"
if [ "$lint" = 1 ]; then
  cargo fmt --check || die "cargo fmt --check failed in otlp-client (run cargo fmt)"
  cargo clippy --locked --all-targets -- -D warnings
fi
# The fault tests stop and restart a real Collector under load; on a loaded 2-core machine its own
# shutdown has lost an acknowledged batch (see README, Tests). One rerun, announced loudly, tells a
# real regression (fails twice) from that; a pass on the rerun still prints the first failure above.
if ! cargo test --locked "$@"; then
  log "cargo test failed; running the suite once more to tell a regression from peer flakiness"
  cargo test --locked "$@"
  log "WARNING: otlp-client tests passed only on the second run (first failure above)"
fi
