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
  "actionlint|bash scripts/lint-workflows.sh --build"
  "act|bash scripts/act-run.sh --build"
  "cargo-tarpaulin|bash __tests__/fixtures/coverage/install-cargo-tools.sh tarpaulin"
)
report=()
for s in "${steps[@]}"; do
  what=${s%%|*} cmd=${s#*|}
  log "tools: $what"
  start=$(date +%s.%N)
  # CPU of the step's children, from bash's own accounting (times: user and system of children).
  before=$(times | tail -n 1)
  $cmd >/dev/null || die "building $what failed: $cmd"
  after=$(times | tail -n 1)
  wall=$(python3 -c "import time; print(f'{time.time() - $start:.0f}')")
  cpu=$(python3 - "$before" "$after" <<'PY'
import re, sys
def secs(line):
    total = 0.0
    for m, s in re.findall(r"(\d+)m([\d.]+)s", line):
        total += int(m) * 60 + float(s)
    return total
print(f"{secs(sys.argv[2]) - secs(sys.argv[1]):.0f}")
PY
)
  report+=("$(printf '%-48s %6ss wall %7ss CPU' "$what" "$wall" "$cpu")")
done
printf '%s\n' "${report[@]}"
