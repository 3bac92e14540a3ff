#!/usr/bin/env bash
# `make bench`: runs every benchmark (bench/<name>/run.sh), each writing bench/results/<name>.json
# with its own baseline measured in the same run, then prints one line per result file.
# `scripts/bench.sh rollout image-build` runs only those.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
mkdir -p bench/results
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for d in bench/*/; do [ -x "$d/run.sh" ] && names+=("$(basename "$d")"); done
fi
failed=()
for name in "${names[@]}"; do
  [ -x "bench/$name/run.sh" ] || die "no benchmark bench/$name/run.sh"
  log "benchmark $name"
  if ! "bench/$name/run.sh"; then failed+=("$name"); fi
done
node -e '
const fs = require("fs");
for (const f of fs.readdirSync("bench/results").filter(f => f.endsWith(".json")).sort()) {
  const r = JSON.parse(fs.readFileSync("bench/results/" + f, "utf8"));
  const ratios = Object.entries(r).filter(([k]) => /ratio/.test(k)).map(([k, v]) => `${k}=${v}`).join(" ");
  console.log(`${f.padEnd(24)} ${ratios}`);
}'
[ ${#failed[@]} -eq 0 ] || die "benchmarks failed: ${failed[*]}"
