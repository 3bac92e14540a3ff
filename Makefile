# otlp-deploy-actions: the two commands most people need are `make demo` and `make test`.
# Everything installs what it needs (npm packages, Debian packages, tools built from Go modules and
# crates, cached in $(OTLP_DEPLOY_CACHE) keyed by version). Needs root, as the test bed does.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export OTLP_DEPLOY_CACHE ?= $(HOME)/.cache/otlp-deploy-actions
# Node 24, the runtime the actions declare (runs.using: node24), comes from the npm registry's `node`
# package (a devDependency): every recipe, and so jest, the harness, act and the benchmarks, runs on it.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
JEST := NODE_OPTIONS=--experimental-vm-modules npx jest

.PHONY: help deps build lint typecheck docs-check test test-unit test-e2e test-otlp-client \
        test-testbed-lifecycle lint-workflows act check-deploy cargo-tools testbed-up testbed-down \
        testbed-status testbed-check bench demo tools

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed ## install npm packages (npm ci)

build: deps ## bundle every action (dist/<name>/index.js), compose action.yml, render README usage
	npm run build

typecheck: deps
	npx tsc --noEmit

lint: deps ## eslint and prettier
	npm run lint

docs-check: deps ## action.yml and README usage blocks match the action metadata
	npm run docs:check

test-unit: deps ## fast tests: runtime layer, pure logic, bundles through the harness (no test bed)
	$(JEST) --selectProjects unit

lint-workflows: ## actionlint (built from its Go module) and pinning/injection checks on every workflow
	bash scripts/lint-workflows.sh

test-otlp-client: ## the Rust relay: fmt, clippy, and every test with its real peers (Collector, Jaeger)
	bash otlp-client/scripts/test.sh

tools: ## build every tool the tests need (Go modules, crates) into the cache; prints each one's time
	bash scripts/tools.sh

cargo-tools: ## cargo-tarpaulin for the test-coverage action's cargo preset (built once, cached)
	bash __tests__/fixtures/coverage/install-cargo-tools.sh

testbed-up: ## build (cached) and start the local test bed (real node included; TESTBED_REAL_NODE=0 leaves it out)
	bash testbed/testbed.sh up

testbed-down: ## stop every test-bed process and remove .testbed/
	bash testbed/testbed.sh down

testbed-status: ## show what the test bed runs
	bash testbed/testbed.sh status

testbed-check: testbed-up ## end-to-end checks of the test bed itself
	bash testbed/testbed.sh check

test-testbed-lifecycle: ## the test bed's own fault tests (port clash, recovery, clean down; the real node's up/down)
	bash testbed/tests/lifecycle.sh
	bash testbed/images/tests/lifecycle.sh
	bash testbed/node/tests/lifecycle.sh

test-e2e: deps build cargo-tools testbed-up ## end-to-end tests of the actions (and act) against the test bed
	$(JEST) --selectProjects e2e --runInBand

check-deploy: testbed-up ## validate otlp-client's manifests, chart, rules and dashboard (helm, promtool, dry-run)
	bash scripts/check-deploy.sh

act: build testbed-up ## run the reusable deploy workflow under nektos/act against the test bed
	bash scripts/act-run.sh

test: build typecheck lint docs-check test-unit lint-workflows test-otlp-client testbed-check \
      test-testbed-lifecycle test-e2e check-deploy ## everything CI runs: unit and end-to-end
	@echo "make test: all suites passed"

bench: build testbed-up ## benchmarks; results in bench/results/
	bash scripts/bench.sh

demo: build cargo-tools testbed-up ## the whole pipeline for otlp-client on the local test bed, then a broken release rolled back
	npx tsx scripts/demo.ts
