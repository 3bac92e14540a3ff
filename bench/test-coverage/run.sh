#!/usr/bin/env bash
# make bench: parsing a 100,000-line lcov file vs a naive reference parse (lcov-parse.mjs), and
# patch coverage on a 5,000-file report with a 2,000-line diff vs parsing alone (patch.mjs).
set -euo pipefail
cd "$(dirname "$0")/../.."
node bench/test-coverage/lcov-parse.mjs
node bench/test-coverage/patch.mjs
