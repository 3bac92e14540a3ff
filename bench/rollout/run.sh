#!/usr/bin/env bash
# make bench: crash-looping release to healthy previous revision, this action vs kubectl (bench.mjs),
# on KWOK's simulated nodes and, when the test bed has one, on the real node (a real crash loop), where
# verdicts.mjs also times termination-to-verdict and compares crash-to-healthy with Helm 4.
set -euo pipefail
cd "$(dirname "$0")/../.."
node bench/rollout/startup.mjs --runs "${BENCH_STARTUP_RUNS:-9}"
node bench/rollout/bench.mjs --trials "${BENCH_TRIALS:-3}"
if grep -q '^export TESTBED_REAL_NODE=' "${TESTBED_ENV:-.testbed/env}" 2>/dev/null; then
  node bench/rollout/bench.mjs --trials "${BENCH_TRIALS:-3}" --real-node
  node bench/rollout/verdicts.mjs --trials "${BENCH_TRIALS:-3}" --helm-trials "${BENCH_HELM_TRIALS:-1}"
else
  echo "no real node in the test bed (TESTBED_REAL_NODE=0): crash-to-rollback on a real node not measured" >&2
fi
