#!/usr/bin/env bash
# make bench: crash-looping release to healthy previous revision, this action vs kubectl (bench.mjs).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node bench/rollout/bench.mjs --trials "${BENCH_TRIALS:-3}"
