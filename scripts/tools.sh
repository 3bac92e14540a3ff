#!/usr/bin/env bash
# `make tools`: builds, one after the other, every tool the tests use that has no Debian or npm
# package (from Go modules and crates, cached in $OTLP_DEPLOY_CACHE keyed by version), and prints
# each one's wall-clock and CPU time. A warm cache makes this a few seconds; `.ci/run` runs it first
# so that a cold machine's build time is visible on its own rather than inside a test's timeout.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

steps=(
  "kubernetes, etcd, kwok, kubelet, kube-proxy|bash testbed/tools/build.sh kubernetes etcd kwok node"
  "BuildKit, buildx|bash testbed/images/images.sh tools"
  "OpenTelemetry Collector, Jaeger, telemetrygen|bash otlp-client/scripts/peers.sh otelcol jaeger telemetrygen"
  "helm, promtool|bash scripts/check-deploy.sh --tools"
  "actionlint, zizmor|bash scripts/lint-workflows.sh --build"
  "act|bash scripts/act-run.sh --build"
  "cargo-tarpaulin|bash __tests__/fixtures/coverage/install-cargo-tools.sh tarpaulin"
)
report=()
timing=$(mktemp)
trap 'rm -f "$timing"' EXIT
TIMEFORMAT='%R %U %S'
for s in "${steps[@]}"; do
  what=${s%%|*} cmd=${s#*|}
  log "tools: $what"
  # The step's output stays on stderr (fd 3); bash's time report (wall, user, system) goes to $timing.
  { time $cmd >/dev/null 2>&3 || die "building $what failed: $cmd"; } 3>&2 2>"$timing"
  read -r wall user sys < "$timing"
  report+=("$(printf '%-48s %6.0fs wall %7.0fs CPU' "$what" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')")")
done
printf '%s\n' "${report[@]}"
