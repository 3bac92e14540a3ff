# otlp-deploy-actions: the two commands most people need are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export OTLP_DEPLOY_CACHE ?= $(HOME)/.cache/otlp-deploy-actions
JEST := NODE_OPTIONS=--experimental-vm-modules npx jest

.PHONY: help deps build lint typecheck test test-unit test-e2e testbed-up testbed-down testbed-status \
        testbed-check bench demo

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed ## install npm packages (npm ci)

build: deps ## bundle every action into dist/<name>/index.js
	npm run build

typecheck: deps
	npx tsc --noEmit

lint: deps ## eslint and prettier
	npm run lint

test-unit: deps ## fast tests: runtime layer, pure logic, bundles through the harness (no test bed)
	$(JEST) --selectProjects unit

test-e2e: deps testbed-up ## end-to-end tests of the actions against the local test bed
	$(JEST) --selectProjects e2e --runInBand

testbed-up: ## build (cached) and start the local test bed; writes .testbed/env
	bash testbed/testbed.sh up

testbed-down: ## stop every test-bed process and remove .testbed/
	bash testbed/testbed.sh down

testbed-status: ## show what the test bed runs
	bash testbed/testbed.sh status

testbed-check: testbed-up ## end-to-end checks of the test bed itself
	bash testbed/testbed.sh check

test: build typecheck lint test-unit testbed-check test-e2e ## everything: unit and end-to-end (installs what it needs)
