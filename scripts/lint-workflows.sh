#!/usr/bin/env bash
# Lints every workflow of the repository and fails on any finding:
#   1. actionlint (syntax, expressions, job graph, action inputs of ./ paths; shellcheck on run: scripts),
#      configured by .github/actionlint.yaml;
#   2. zizmor (security audits: injection, excessive permissions, credential persistence, cache
#      poisoning, dangerous triggers...), offline, configured by .github/zizmor.yml; its PyPI wheel
#      ships the binary;
#   3. scripts/check-workflows.mjs: third-party actions pinned by commit SHA, no untrusted ${{ }} in run:,
#      first-party action/reusable-workflow inputs, secrets and outputs matching this checkout, and a
#      reusable workflow that runs this suite's actions from its own commit.
# Then a self-test proves that each rule still fails on the bad fixtures in __tests__/fixtures/workflows/bad/
# (a linter that cannot fail proves nothing). Skip it with --no-self-test.
#
# Usage: scripts/lint-workflows.sh [--no-self-test | --build] [FILE...]   (--build: only build actionlint)   (default: .github/workflows, workflows-examples and the act caller fixture)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ACTIONLINT_VERSION=1.7.12
ZIZMOR_VERSION=1.32.0
# This repository's own actions and reusable workflow: exempt from SHA pinning (callers pin our
# release tag) and checked against the local action.yml / deploy.yml instead.
FIRST_PARTY="otlp-deploy-actions/otlp-deploy-actions=$REPO_ROOT"
# deploy.yml checks out this repository at its own commit into .git/otlp-deploy-actions/ and runs
# the actions from there: their contracts are read from this checkout too.
FIRST_PARTY_CHECKOUT="./.git/otlp-deploy-actions=$REPO_ROOT"

self_test=1
build_only=0
files=()
for arg in "$@"; do
  case "$arg" in
    --no-self-test) self_test=0 ;;
    --build) build_only=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) files+=("$arg") ;;
  esac
done
if [ ${#files[@]} -eq 0 ]; then
  shopt -s nullglob
  files=(.github/workflows/*.yml .github/workflows/*.yaml workflows-examples/*.yml workflows-examples/*.yaml
         __tests__/fixtures/workflows/*.yml __tests__/fixtures/workflows/service/*.yml)
  shopt -u nullglob
fi
[ ${#files[@]} -gt 0 ] || die "no workflow files to lint"

actionlint=$(go_tool actionlint "$ACTIONLINT_VERSION" "$REPO_ROOT/tools/actionlint" github.com/rhysd/actionlint/cmd/actionlint)
zizmor=$(pip_tool zizmor "$ZIZMOR_VERSION")
if [ "$build_only" = 1 ]; then printf '%s\n%s\n' "$actionlint" "$zizmor"; exit 0; fi
# actionlint runs shellcheck on every run: script when it is on PATH.
command -v shellcheck >/dev/null 2>&1 || apt_install shellcheck
[ -d node_modules/yaml ] || die "node_modules is missing: run 'make deps' (npm ci) first"

run_actionlint() { "$actionlint" -shellcheck="$(command -v shellcheck)" -no-color "$@"; }
run_zizmor() { "$zizmor" --offline --no-progress --config .github/zizmor.yml "$@"; }
run_checks() { node scripts/check-workflows.mjs --first-party "$FIRST_PARTY" --first-party "$FIRST_PARTY_CHECKOUT" "$@"; }

status=0
log "actionlint $ACTIONLINT_VERSION on ${#files[@]} file(s)"
run_actionlint "${files[@]}" || status=1
log "zizmor $ZIZMOR_VERSION on ${#files[@]} file(s)"
run_zizmor "${files[@]}" || status=1
log "pins, script injection and first-party contracts"
run_checks "${files[@]}" || status=1

if [ "$self_test" = 1 ]; then
  # Each bad fixture names what must catch it on its first line: `# expect: actionlint RULE...` or
  # `# expect: zizmor AUDIT...` (the tool must fail and report each of them: a crash or a YAML error
  # is not a catch), or `# expect: <rule> <count>` for check-workflows.mjs.
  passed=0 failed=0
  for fixture in __tests__/fixtures/workflows/bad/*.yml; do
    # args: the rule ids a tool must report, or the count of findings of a check-workflows rule.
    read -r _ _ rule args < <(head -n1 "$fixture")
    if [ "$rule" = actionlint ] || [ "$rule" = zizmor ]; then
      expected=$args
      out=$("run_$rule" "$fixture" 2>&1) && { echo "self-test FAILED: $rule accepted $fixture" >&2; failed=$((failed + 1)); continue; }
      unreported=''
      for id in $expected; do grep -q "\[$id\]" <<<"$out" || unreported+=" $id"; done
      if [ -z "$expected" ] || [ -n "$unreported" ]; then
        echo "self-test FAILED: $rule did not report${unreported:- the rules named on line 1} for $fixture" >&2; failed=$((failed + 1))
      else passed=$((passed + 1)); fi
    else
      got=$(run_checks "$fixture" 2>/dev/null | grep -c "\[$rule\]" || true)
      if [ "$got" = "$args" ]; then passed=$((passed + 1))
      else echo "self-test FAILED: $fixture: expected $args [$rule] finding(s), got $got" >&2; failed=$((failed + 1)); fi
    fi
  done
  echo "workflow-lint self-test: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] || status=1
fi

if [ "$status" -ne 0 ]; then die "workflow lint failed (findings above)"; fi
log "workflows clean: ${files[*]}"
