#!/usr/bin/env bash
# make bench: parsing a 100,000-line lcov file vs a naive reference parse (lcov-parse.mjs).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node bench/test-coverage/lcov-parse.mjs
