#!/usr/bin/env bash
# image-build benchmark: cold two-platform build vs an unchanged warm rebuild, for buildx and buildah,
# through the bundled action. Needs the image test bed up (make testbed-up). Writes bench/results/image-build.json.
#   BENCH_BUILDERS=buildx,buildah  BENCH_CHUNKS=96  bench/image-build/run.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
cd "$REPO_ROOT"
env_file="${TESTBED_ENV:-$REPO_ROOT/.testbed/env}"
[ -f "$env_file" ] || die "$env_file is missing: run 'make testbed-up' first"
[ -f dist/image-build/index.js ] || node scripts/build.mjs image-build
exec node_modules/.bin/tsx bench/image-build/bench.ts
